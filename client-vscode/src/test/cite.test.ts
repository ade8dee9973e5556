import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { citationFor, citeFamily, keyAt } from '../cite';

const k = 'vaswani2017attention';
const text = (lang: string, before = '') => citationFor(lang, k, before).text;

describe('citationFor outside a citation', () => {
  it('uses the syntax of each language', () => {
    assert.equal(text('latex', 'The Transformer '), `\\cite{${k}}`);
    assert.equal(text('tex'), `\\cite{${k}}`);
    assert.equal(text('markdown', 'as shown '), `[@${k}]`);
    assert.equal(text('quarto'), `[@${k}]`);
    assert.equal(text('typst', 'see '), `@${k}`);
    assert.equal(text('org', 'see '), `[cite:@${k}]`);
    assert.equal(text('plaintext', 'x '), k);
    assert.equal(text('bibtex'), k);
    assert.equal(text('python'), k);
    assert.equal(citationFor('latex', k, 'x').inside, false);
  });
  it('maps language ids to families', () => {
    assert.equal(citeFamily('LaTeX'), 'latex');
    assert.equal(citeFamily('rmd'), 'markdown');
    assert.equal(citeFamily('restructuredtext'), 'plain');
  });
});

describe('citationFor inside a citation inserts just the key', () => {
  it('latex', () => {
    assert.equal(text('latex', 'as in \\cite{'), k);
    assert.equal(text('latex', 'as in \\citep[see][p.~3]{'), k);
    assert.equal(text('latex', '\\parencite*{'), k);
    assert.equal(text('latex', '\\textcite{devlin2019bert,'), k);
    assert.equal(text('latex', '\\cite{devlin2019bert, '), k);
    assert.equal(text('latex', '\\cite{devlin2019bert'), `,${k}`);
    assert.equal(text('latex', '\\autocite'), `{${k}}`);
    assert.equal(text('latex', '\\cites{a}{'), k);
    assert.equal(citationFor('latex', k, '\\cite{').inside, true);
    // a closed citation earlier on the line does not count
    assert.equal(text('latex', '\\cite{a} and '), `\\cite{${k}}`);
    assert.equal(text('latex', '\\section{'), `\\cite{${k}}`);
  });
  it('markdown', () => {
    assert.equal(text('markdown', 'text [@'), k);
    assert.equal(text('markdown', 'text [-@'), k);
    assert.equal(text('markdown', 'text @'), k);
    assert.equal(text('markdown', 'text [see @devlin2019bert, p. 3; '), `@${k}`);
    assert.equal(text('markdown', 'text [@devlin2019bert'), `; @${k}`);
    assert.equal(text('markdown', 'mail me@'), `[@${k}]`);
    assert.equal(text('markdown', '[link]'), `[@${k}]`);
  });
  it('typst', () => {
    assert.equal(text('typst', 'see @'), k);
    assert.equal(text('typst', '#cite(<'), k);
    assert.equal(text('typst', '#cite('), `<${k}>`);
  });
  it('org', () => {
    assert.equal(text('org', '[cite:@'), k);
    assert.equal(text('org', '[cite:'), `@${k}`);
    assert.equal(text('org', '[cite/t:@a;'), `@${k}`);
    assert.equal(text('org', '[cite:@a'), `;@${k}`);
  });
});

describe('keyAt', () => {
  const line = 'The Transformer \\cite{vaswani2017attention} replaced recurrence.';
  it('finds the key under the cursor', () => {
    const col = line.indexOf('vaswani') + 3;
    assert.equal(keyAt(line, col), 'vaswani2017attention');
    assert.equal(keyAt(line, line.indexOf('vaswani')), 'vaswani2017attention');
    assert.equal(keyAt('see [@doe:2020].', 9), 'doe:2020');
    assert.equal(keyAt('a  b', 2), undefined);
  });
});
