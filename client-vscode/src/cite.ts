/**
 * The text to insert for a citation key in each document language (no `vscode` import).
 *
 *   latex/tex   \cite{key}      (inside \cite{...}: key, or ",key" after another key)
 *   markdown    [@key]          (after "[@" or "@": key; inside "[@a ...": "; @key")
 *   typst       @key            (after "@" or inside #cite(<...>): key)
 *   org         [cite:@key]     (inside [cite:...]: key, "@key" or ";@key")
 *   others      key
 */

export type CiteFamily = 'latex' | 'markdown' | 'typst' | 'org' | 'plain';

const FAMILY: Record<string, CiteFamily> = {
  latex: 'latex',
  tex: 'latex',
  'latex-expl3': 'latex',
  doctex: 'latex',
  context: 'latex',
  markdown: 'markdown',
  rmd: 'markdown',
  quarto: 'markdown',
  pandoc: 'markdown',
  mdx: 'markdown',
  typst: 'typst',
  org: 'org',
};

export function citeFamily(languageId: string): CiteFamily {
  return FAMILY[languageId.toLowerCase()] ?? 'plain';
}

export interface CitationInsert {
  text: string;
  /** The cursor was already inside a citation, so only the key (and a separator) is inserted. */
  inside: boolean;
}

// \cite, \citep, \citet*, \parencite, \textcite, \autocite, \footcite, \nocite, \citeauthor, \Cite...
const LATEX_CMD = String.raw`\\[A-Za-z]*[cC]ite[A-Za-z]*\*?(?:\s*\[[^\]]*\]){0,2}`;
const LATEX_OPEN_BRACE = new RegExp(LATEX_CMD + String.raw`\s*\{([^{}]*)$`);
const LATEX_BARE_CMD = new RegExp(LATEX_CMD + '$');
// \cites{a}{b}: inside any later brace group of a multicite
const LATEX_MULTI = new RegExp(String.raw`\\[A-Za-z]*[cC]ites\*?(?:\s*(?:\[[^\]]*\]|\{[^{}]*\}))*\s*\{([^{}]*)$`);

function latex(key: string, before: string): CitationInsert {
  const m = LATEX_OPEN_BRACE.exec(before) ?? LATEX_MULTI.exec(before);
  if (m) {
    const inner = m[1].replace(/\s+$/, '');
    const sep = inner === '' || inner.endsWith(',') ? '' : ',';
    return { text: sep + key, inside: true };
  }
  if (LATEX_BARE_CMD.test(before)) return { text: `{${key}}`, inside: true };
  return { text: `\\cite{${key}}`, inside: false };
}

function markdown(key: string, before: string): CitationInsert {
  if (/(?:^|[\s\[;(])-?@$/.test(before)) return { text: key, inside: true };
  const open = /\[([^\[\]]*)$/.exec(before);
  if (open && open[1].includes('@')) {
    const inner = open[1];
    if (/;\s*$/.test(inner)) return { text: `@${key}`, inside: true };
    return { text: `; @${key}`, inside: true };
  }
  return { text: `[@${key}]`, inside: false };
}

function typst(key: string, before: string): CitationInsert {
  if (/@$/.test(before)) return { text: key, inside: true };
  if (/#cite\(\s*<$/.test(before)) return { text: key, inside: true };
  if (/#cite\(\s*$/.test(before)) return { text: `<${key}>`, inside: true };
  return { text: `@${key}`, inside: false };
}

function org(key: string, before: string): CitationInsert {
  const m = /\[cite(?:\/[^:\]]*)?:([^\]]*)$/.exec(before);
  if (m) {
    const inner = m[1];
    if (inner.endsWith('@')) return { text: key, inside: true };
    if (/(?:^|;)\s*$/.test(inner)) return { text: `@${key}`, inside: true };
    return { text: `;@${key}`, inside: true };
  }
  if (/(?:^|\s)@$/.test(before)) return { text: key, inside: true };
  return { text: `[cite:@${key}]`, inside: false };
}

/**
 * @param languageId the document's language id
 * @param key        the citation key
 * @param before     the text of the current line before the cursor
 */
export function citationFor(languageId: string, key: string, before = ''): CitationInsert {
  switch (citeFamily(languageId)) {
    case 'latex':
      return latex(key, before);
    case 'markdown':
      return markdown(key, before);
    case 'typst':
      return typst(key, before);
    case 'org':
      return org(key, before);
    default:
      return { text: key, inside: false };
  }
}

/** Characters of a citation key (BibTeX keys allow more than words do). */
export const KEY_PATTERN = /[A-Za-z0-9_:.+\-/]+/;

/** The citation key around `column` in `line`, if any (trailing dots and colons trimmed). */
export function keyAt(line: string, column: number): string | undefined {
  const re = new RegExp(KEY_PATTERN.source, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    if (column >= start && column <= end) {
      const key = m[0].replace(/[.:]+$/, '');
      return key || undefined;
    }
  }
  return undefined;
}
