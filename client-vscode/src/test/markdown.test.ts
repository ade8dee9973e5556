/**
 * File names, titles and authors come from paper folders and PDFs: untrusted. Where the extension
 * puts them into markdown (the Show Paper Summary preview) or into a notification (which renders
 * `[text](link)`), they must show as text: no link, image or HTML of their own making (issue 13,
 * case 9). Rendered with markdown-it, the renderer of VS Code's Markdown preview, HTML allowed as
 * the preview allows it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { cardForPreview, codeSpan, noLinks } from '../format';

// markdown-it is in node_modules through @vscode/vsce (no types: required untyped)
const MarkdownIt = require('markdown-it');
const preview = new MarkdownIt({ html: true, linkify: true });

function render(markdown: string): string {
  return preview.render(markdown) as string;
}

/** The HTML tags of a rendering (names only). */
function tags(html: string): string[] {
  return [...html.matchAll(/<([a-z][a-z0-9]*)\b/gi)].map((m) => m[1].toLowerCase());
}

/**
 * The links of a rendering that are not the bare http(s) URLs linkify makes of a URL written in
 * the text (the preview does that for any URL in a title or abstract: shown as written).
 */
function madeLinks(html: string): string[] {
  return [...html.matchAll(/<a href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g)]
    .filter((m) => !(/^https?:\/\//.test(m[1]) && m[2] === m[1]))
    .map((m) => m[0]);
}

/** The text of the <code> elements of a rendering, HTML entities decoded. */
function codeTexts(html: string): string[] {
  const decode = (s: string) =>
    s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return [...html.matchAll(/<code>([\s\S]*?)<\/code>/g)].map((m) => decode(m[1]));
}

/** A file name as the server's file URIs carry it (Python's Path.as_uri quotes all but `/`). */
function asUri(name: string): string {
  return encodeURIComponent(name).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

const HOSTILE_NAMES = [
  'x` [click](https://evil.example) `.pdf',
  'x` <img src=https://tracker.example/p.png> `.pdf',
  '`leading and trailing`',
  'a``b```c.bib',
  ' spaced .txt ',
  'two\n\nparagraphs [x](https://evil.example).txt',
  '<script>alert(1)</script>.md',
];

describe('code spans of untrusted text', () => {
  it('fences with more backticks than any run inside, padded where CommonMark strips', () => {
    assert.equal(codeSpan('plain.pdf'), '`plain.pdf`');
    assert.equal(codeSpan('a`b.pdf'), '``a`b.pdf``');
    assert.equal(codeSpan('a``b```c.bib'), '````a``b```c.bib````');
    assert.equal(codeSpan('`x`'), '`` `x` ``');
    assert.equal(codeSpan(' x '), '`  x  `');
    assert.equal(codeSpan('a\nb'), '`a\uFFFDb`');
  });
  for (const name of HOSTILE_NAMES) {
    it(`renders ${JSON.stringify(name)} as one code element and nothing else`, () => {
      const html = render(`file ${codeSpan(name)} here`);
      assert.deepEqual(tags(html), ['p', 'code']);
      assert.deepEqual(codeTexts(html), [name.replace(/\n/g, '\uFFFD')]);
    });
  }
});

describe('card for the preview: file links from untrusted file names', () => {
  for (const name of HOSTILE_NAMES) {
    it(`shows the path of ${JSON.stringify(name)} as code, nothing live`, () => {
      const uri = 'file:///tmp/lib/' + asUri(name) + '#L3';
      const html = render(cardForPreview(`\`k\` · [here:3](${uri})`));
      assert.deepEqual(tags(html), ['p', 'code', 'code'], html);
      assert.deepEqual(codeTexts(html), ['k', `/tmp/lib/${name.replace(/\n/g, '\uFFFD')}:3`]);
    });
  }

  it('takes a link text with escaped brackets and backticks (as the server escapes them)', () => {
    const out = cardForPreview('[a\\]b\\`c.bib:1](file:///tmp/a%5Db%60c.bib#L1)');
    assert.equal(out, 'a\\]b\\`c.bib:1 (``/tmp/a]b`c.bib:1``)');
  });

  it('a whole server card for a hostile paper shows no link, image or HTML', () => {
    // what cards.render_card returns for a .bib entry whose title, author and abstract carry
    // links and HTML, in a file named with backticks, an <img> and a command link
    const card =
      '**Click \\[here\\](javascript:alert(1)) \\<img src=x onerror=alert(2)\\>**\n\nMallory\\](https://evil.example) \u00b7 2024\n\n' +
      'Abstract: See \\<iframe src=https://evil.example\\>\\</iframe\\>.\n\n`evil2024` \u00b7 ' +
      '[x\\` \\<img src=x onerror=alert(1)\\> \\[quit\\](command:workbench.action.quit) \\`.bib:3](file:///tmp/lib/x%60%20%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%20%5Bquit%5D%28command%3Aworkbench.action.quit%29%20%60.bib#L3)' +
      ' \u00b7 [p\\`\\`df.pdf](file:///tmp/lib/p%60%60df.pdf)\n';
    const html = render(cardForPreview(card));
    assert.deepEqual(madeLinks(html), []);
    assert.deepEqual(new Set(tags(html).filter((t) => t !== 'a')), new Set(['p', 'strong', 'code']), html);
    assert.deepEqual(codeTexts(html), [
      'evil2024',
      '/tmp/lib/x` <img src=x onerror=alert(1)> [quit](command:workbench.action.quit) `.bib:3',
      '/tmp/lib/p``df.pdf',
    ]);
  });
});

describe('notifications with untrusted text', () => {
  it('break the [text](link) pattern VS Code turns into a link, keep the text readable', () => {
    const name = '/lib/[quit](command:workbench.action.quit).pdf';
    const out = noLinks(name);
    assert.doesNotMatch(out, /\[[^\]]+\]\((?:https?:\/\/|command:|file:)/);
    assert.equal(out.replace(/\u200b/g, ''), name);
    assert.equal(noLinks('/lib/plain (2).pdf'), '/lib/plain (2).pdf');
  });
});
