/**
 * Turning server answers into what the UI shows (no `vscode` import): Quick Pick items for
 * `paperlens.search` results and papers, and the status bar text for `paperlens.status`.
 */

/** One result of the server's `paperlens.search` command. */
export interface SearchResult {
  key: string;
  title: string;
  file: string;
  uri?: string;
  line: number; // 1-based
  line_end?: number;
  page?: number | null;
  section?: string | null;
  score?: number;
  snippet?: string;
  paper_id?: string;
}

/** One paper (a future `paperlens.papers` command; or derived from search results). */
export interface PaperInfo {
  key: string;
  title: string;
  year?: string | number | null;
  authors?: string | string[] | null;
}

export interface PickItem {
  label: string;
  description: string;
  detail: string;
}

/** Removes the `**` match markers of a snippet and collapses whitespace. */
export function plainSnippet(snippet: string | undefined | null): string {
  return (snippet ?? '').replace(/\*\*/g, '').replace(/\s+/g, ' ').trim();
}

/** The matched words of a snippet (between `**` markers), lower-cased and unique. */
export function snippetMatches(snippet: string | undefined | null): string[] {
  const out = new Set<string>();
  const re = /\*\*([^*]+)\*\*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(snippet ?? '')) !== null) out.add(m[1].trim().toLowerCase());
  return [...out].filter((w) => w.length > 0);
}

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return (space > max * 0.6 ? cut.slice(0, space) : cut) + '…';
}

export function basename(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1] || file;
}

export function isPdf(file: string): boolean {
  return /\.pdf$/i.test(file);
}

/** Quick Pick item for one search result: title / key · p. N · section · file / snippet. */
export function formatSearchResult(r: SearchResult, maxDetail = 180): PickItem {
  const where: string[] = [r.key];
  if (r.page !== undefined && r.page !== null && r.page !== 0) where.push(`p. ${r.page}`);
  if (r.section) where.push(truncate(r.section, 40));
  where.push(`${basename(r.file)}:${r.line}`);
  return {
    label: r.title && r.title.trim() ? r.title.trim() : r.key,
    description: where.join(' · '),
    detail: truncate(plainSnippet(r.snippet), maxDetail),
  };
}

export function formatAuthors(authors: PaperInfo['authors'], max = 3): string {
  if (!authors) return '';
  const list = Array.isArray(authors) ? authors : authors.split(/\s+and\s+|;\s*/);
  const names = list.map((a) => a.trim()).filter(Boolean);
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} et al.`;
}

/** Quick Pick item for one paper (Insert Citation): key / title, authors, year. */
export function formatPaper(p: PaperInfo): PickItem {
  const bits = [formatAuthors(p.authors), p.year ? String(p.year) : ''].filter(Boolean);
  return { label: p.key, description: bits.join(' · '), detail: p.title ?? '' };
}

/** Papers from passage hits: one per key, in rank order. */
export function papersFromResults(results: SearchResult[]): PaperInfo[] {
  const seen = new Set<string>();
  const out: PaperInfo[] = [];
  for (const r of results) {
    if (!r.key || seen.has(r.key)) continue;
    seen.add(r.key);
    out.push({ key: r.key, title: r.title });
  }
  return out;
}

/** Where a result opens: 0-based line range, or a PDF to hand to the system. */
export function resultTarget(r: SearchResult): { file: string; uri?: string; line0: number; lineEnd0: number; pdf: boolean } {
  const line0 = Math.max(0, (Number(r.line) || 1) - 1);
  const end = r.line_end !== undefined && r.line_end !== null ? Number(r.line_end) : r.line;
  const lineEnd0 = Math.max(line0, (Number(end) || 1) - 1);
  return { file: r.file, uri: r.uri, line0, lineEnd0, pdf: isPdf(r.file) };
}

// ---------------------------------------------------------------------------------------------
// status bar

/** The server's `paperlens.status` answer (fields we use). */
export interface ServerStatus {
  indexing?: boolean;
  folders?: string[];
  papers?: number;
  settings_errors?: string[];
  last?: Array<{
    folder?: string;
    skipped?: Array<{ path: string; reason: string } | [string, string]>;
    warnings?: string[];
    unusable?: number;
    papers_total?: number;
  }>;
}

export interface StatusView {
  text: string;
  tooltip: string;
  warning: boolean;
  /** What a click does: search papers, or restart a stopped server. */
  action: 'search' | 'restart';
}

export interface StatusInputs {
  status?: ServerStatus;
  /** Percentage of a running `$/progress` (undefined when none runs). */
  progress?: number;
  progressMessage?: string;
  /** Errors found by the client in the settings. */
  clientErrors?: string[];
  /** The server is not running (start failed, or stopped). */
  stoppedReason?: string;
  starting?: boolean;
}

function skippedOf(status?: ServerStatus): string[] {
  const out: string[] = [];
  for (const r of status?.last ?? []) {
    for (const s of r.skipped ?? []) {
      if (Array.isArray(s)) out.push(`${s[0]}: ${s[1]}`);
      else if (s && typeof s === 'object') out.push(`${s.path}: ${s.reason}`);
    }
  }
  return out;
}

export function statusView(inp: StatusInputs): StatusView {
  if (inp.stoppedReason) {
    return { text: '$(warning) paperlens: stopped', tooltip: `${inp.stoppedReason}\n\nClick to restart the server`, warning: true, action: 'restart' };
  }
  const st = inp.status;
  const papers = st?.papers ?? 0;
  const lines: string[] = [];
  let text: string;
  if (inp.progress !== undefined || st?.indexing) {
    text = inp.progress !== undefined ? `$(sync~spin) indexing ${Math.round(inp.progress)}%` : '$(sync~spin) indexing';
    lines.push(`paperlens is indexing${inp.progressMessage ? `: ${inp.progressMessage}` : ''}`);
    if (papers) lines.push(`${papers} papers indexed so far`);
  } else if (inp.starting && !st) {
    text = '$(sync~spin) paperlens';
    lines.push('paperlens: starting the server');
  } else {
    text = `$(book) paperlens: ${papers} paper${papers === 1 ? '' : 's'}`;
    lines.push(`${papers} paper${papers === 1 ? '' : 's'} indexed`);
  }
  if (st?.folders?.length) lines.push(`Folders: ${st.folders.join(', ')}`);
  const problems = [...(inp.clientErrors ?? []), ...(st?.settings_errors ?? [])];
  const unique = [...new Set(problems)];
  const skipped = skippedOf(st);
  const warnings = (st?.last ?? []).flatMap((r) => r.warnings ?? []);
  if (unique.length) lines.push('', 'Settings problems:', ...unique.map((e) => `• ${e}`));
  if (skipped.length) lines.push('', `Skipped files (${skipped.length}):`, ...skipped.slice(0, 10).map((e) => `• ${e}`));
  if (skipped.length > 10) lines.push(`… and ${skipped.length - 10} more (see the paperlens output)`);
  if (warnings.length) lines.push('', ...warnings.slice(0, 5).map((w) => `• ${w}`));
  const warning = unique.length > 0 || skipped.length > 0;
  if (warning && !text.startsWith('$(sync')) text = text.replace('$(book)', '$(warning)');
  lines.push('', 'Click to search papers');
  return { text, tooltip: lines.join('\n'), warning, action: 'search' };
}

// ---------------------------------------------------------------------------------------------
// paper card (Show Paper Summary)

/**
 * The hover card prepared for the Markdown preview: the preview refuses `file:` links (they would
 * show as raw `[text](file:///...)`), so such links become their text followed by the path. The
 * path (a file name: untrusted) is a code span that no backtick in it can end (`codeSpan`); the
 * link text is taken as the server escaped it (`\]` and the like included).
 */
export function cardForPreview(markdown: string): string {
  return markdown.replace(/\[((?:\\.|[^\]\\])*)\]\((file:\/\/[^)\s]*)\)/g, (_m, text: string, target: string) => {
    let p = target.replace(/^file:\/\//, '');
    try {
      p = decodeURIComponent(p);
    } catch {
      // keep it encoded
    }
    p = p.replace(/#L(\d+)$/, ':$1');
    if (/^\/[A-Za-z]:\//.test(p)) p = p.slice(1); // file:///C:/...
    return `${text} (${codeSpan(p)})`;
  });
}

/**
 * Untrusted text (a file name, a title) as a CommonMark code span that shows exactly that text:
 * fenced by more backticks than its longest run of them (a backtick inside cannot end the span),
 * padded with a space on each side when it starts or ends with a backtick or space (CommonMark
 * strips one such pair). Line breaks and other control characters, which could end the
 * paragraph, show as U+FFFD.
 */
export function codeSpan(text: string): string {
  const t = text.replace(/[\u0000-\u001f\u007f]/g, '\uFFFD');
  if (!t) return '';
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(t) ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/**
 * Untrusted text for a notification (`showInformationMessage` and the like), which turns
 * `[text](https:…)`, `[text](command:…)` and `[text](file:…)` into links: a zero-width space
 * between `]` and `(` keeps the text as it reads and makes no link.
 */
export function noLinks(text: string): string {
  return text.replace(/\]\(/g, ']\u200b(');
}
