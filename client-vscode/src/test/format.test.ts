import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  cardForPreview,
  formatAuthors,
  formatPaper,
  formatSearchResult,
  papersFromResults,
  plainSnippet,
  resultTarget,
  SearchResult,
  snippetMatches,
  statusView,
  truncate,
} from '../format';

const hit: SearchResult = {
  key: 'brandt2023lightweight',
  title: 'Lightweight Gaze Estimation for Commodity Webcams',
  file: '/ws/papers/gaze-lite.txt',
  uri: 'file:///ws/papers/gaze-lite.txt',
  line: 12,
  line_end: 15,
  page: 3,
  section: 'Method',
  score: 7.1,
  snippet: 'we estimate **gaze** from   **webcams** … at 30 fps',
};

describe('search results', () => {
  it('show title, key, page, section, file:line and the snippet without ** marks', () => {
    const item = formatSearchResult(hit);
    assert.equal(item.label, 'Lightweight Gaze Estimation for Commodity Webcams');
    assert.equal(item.description, 'brandt2023lightweight · p. 3 · Method · gaze-lite.txt:12');
    assert.equal(item.detail, 'we estimate gaze from webcams … at 30 fps');
  });
  it('leave out a missing page and section, and fall back to the key for a missing title', () => {
    const item = formatSearchResult({ ...hit, title: '', page: null, section: '' });
    assert.equal(item.label, 'brandt2023lightweight');
    assert.equal(item.description, 'brandt2023lightweight · gaze-lite.txt:12');
  });
  it('truncate long snippets at a word', () => {
    const item = formatSearchResult({ ...hit, snippet: 'word '.repeat(100) }, 50);
    assert.ok(item.detail.length <= 50);
    assert.ok(item.detail.endsWith('…'));
    assert.equal(truncate('short', 10), 'short');
  });
  it('list matched words', () => {
    assert.deepEqual(snippetMatches(hit.snippet), ['gaze', 'webcams']);
    assert.equal(plainSnippet(undefined), '');
  });
  it('open at the 0-based line; PDFs are recognised', () => {
    assert.deepEqual(resultTarget(hit), { file: hit.file, uri: hit.uri, line0: 11, lineEnd0: 14, pdf: false });
    assert.equal(resultTarget({ ...hit, file: '/x/paper.PDF', line: 0 }).pdf, true);
    assert.equal(resultTarget({ ...hit, line: 0 }).line0, 0);
  });
  it('give one paper per key, in rank order', () => {
    const papers = papersFromResults([hit, { ...hit, line: 40 }, { ...hit, key: 'b', title: 'B' }]);
    assert.deepEqual(papers, [{ key: 'brandt2023lightweight', title: hit.title }, { key: 'b', title: 'B' }]);
  });
});

describe('papers', () => {
  it('show key, authors, year and title', () => {
    assert.deepEqual(formatPaper({ key: 'k', title: 'T', year: 2017, authors: ['A', 'B', 'C', 'D'] }), {
      label: 'k',
      description: 'A, B, C et al. · 2017',
      detail: 'T',
    });
    assert.equal(formatAuthors('Vaswani, A. and Shazeer, N.'), 'Vaswani, A., Shazeer, N.');
    assert.equal(formatAuthors(null), '');
  });
});

describe('status bar', () => {
  it('shows the number of papers', () => {
    const v = statusView({ status: { indexing: false, papers: 12, folders: ['/ws'], settings_errors: [], last: [] } });
    assert.equal(v.text, '$(book) paperlens: 12 papers');
    assert.equal(v.warning, false);
    assert.match(v.tooltip, /Folders: \/ws/);
    assert.equal(statusView({ status: { papers: 1 } }).text, '$(book) paperlens: 1 paper');
  });
  it('shows the indexing percentage while $/progress runs', () => {
    assert.equal(statusView({ status: { papers: 3 }, progress: 36.6 }).text, '$(sync~spin) indexing 37%');
    assert.equal(statusView({ status: { papers: 3, indexing: true } }).text, '$(sync~spin) indexing');
  });
  it('warns about settings errors and skipped files, with a tooltip', () => {
    const v = statusView({
      status: { papers: 5, settings_errors: ['paperlens.completion.limit must be at least 1'], last: [{ skipped: [{ path: '/ws/bad.txt', reason: 'empty' }] }] },
      clientErrors: ['paperlens.trace.server must be one of off, messages, verbose'],
    });
    assert.equal(v.text, '$(warning) paperlens: 5 papers');
    assert.equal(v.warning, true);
    assert.match(v.tooltip, /completion\.limit/);
    assert.match(v.tooltip, /trace\.server/);
    assert.match(v.tooltip, /\/ws\/bad\.txt: empty/);
  });
  it('says when the server is stopped or starting', () => {
    const stopped = statusView({ stoppedReason: 'no python' });
    assert.equal(stopped.text, '$(warning) paperlens: stopped');
    assert.equal(stopped.action, 'restart');
    assert.match(stopped.tooltip, /no python/);
    assert.equal(statusView({ status: { papers: 2 } }).action, 'search');
    assert.equal(statusView({ starting: true }).text, '$(sync~spin) paperlens');
  });
});

describe('card for the preview', () => {
  it('turns file: links into text and path, keeps other links', () => {
    const md = '`k` · [library.bib:3](file:///tmp/my%20papers/library.bib#L3) · [arXiv:1706.03762](https://arxiv.org/abs/1706.03762)';
    assert.equal(cardForPreview(md), '`k` · library.bib:3 (`/tmp/my papers/library.bib:3`) · [arXiv:1706.03762](https://arxiv.org/abs/1706.03762)');
    assert.equal(cardForPreview('[a](file:///C:/x/y.bib)'), 'a (`C:/x/y.bib`)');
  });
});
