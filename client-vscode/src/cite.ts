/**
 * Insert Citation: the server says what to insert for a key at a position, in the document's own
 * citation syntax (`paperlens.server.citationInsert`: `\cite{key}`, `,key` inside `\cite{a`,
 * `[@key]`, `; @key`, `@key`, `[cite:@key]` ...), so this extension repeats none of the server's
 * citation rules. No `vscode` import: unit-tested with a fake client.
 */
import { Exec, SERVER_COMMANDS } from './serverApi';

/** LSP positions and ranges (line and UTF-16 character, both from 0), as VS Code's. */
export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}
export interface TextEdit {
  range: Range;
  newText: string;
}

function isPosition(v: unknown): v is Position {
  const p = v as Position;
  return typeof v === 'object' && v !== null
    && Number.isInteger(p.line) && p.line >= 0 && Number.isInteger(p.character) && p.character >= 0;
}

/** The server's answer as an edit, or undefined when it is not `{range, newText}`. */
export function asTextEdit(answer: unknown): TextEdit | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  const { range, newText } = answer as { range?: Range; newText?: unknown };
  if (typeof newText !== 'string' || typeof range !== 'object' || range === null) return undefined;
  if (!isPosition(range.start) || !isPosition(range.end) || before(range.end, range.start)) return undefined;
  return { range: { start: { ...range.start }, end: { ...range.end } }, newText };
}

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** The smallest range holding both. */
function cover(a: Range, b: Range): Range {
  return { start: before(b.start, a.start) ? b.start : a.start, end: before(a.end, b.end) ? b.end : a.end };
}

/**
 * The edits that insert `key` at each selection (a selected text is replaced), asking the server
 * at each selection's start. A document the server does not serve (`served` false) gets the key
 * as it is, as does a position where the server answers null.
 *
 * @throws when the server fails or answers something that is not `{range, newText}`
 */
export async function citationEdits(
  exec: Exec,
  uri: string,
  selections: readonly Range[],
  key: string,
  served = true,
): Promise<TextEdit[]> {
  return Promise.all(
    selections.map(async (selection) => {
      if (!served) return { range: selection, newText: key };
      const position = { line: selection.start.line, character: selection.start.character };
      const answer = await exec(SERVER_COMMANDS.citationInsert, [uri, position, key]);
      if (answer === null || answer === undefined) return { range: selection, newText: key };
      const edit = asTextEdit(answer);
      if (!edit) {
        throw new Error(`${SERVER_COMMANDS.citationInsert} answered ${JSON.stringify(answer).slice(0, 200)}, not {range, newText}`);
      }
      return { range: cover(edit.range, selection), newText: edit.newText };
    }),
  );
}

/** Characters of a citation key (BibTeX keys allow more than words do). */
export const KEY_PATTERN = /[A-Za-z0-9_:.+\-/]+/;

/** The citation key around `column` in `line`, if any (trailing dots and colons trimmed): names
 * the card of Show Paper Summary. */
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
