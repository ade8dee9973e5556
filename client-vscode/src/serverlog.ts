/**
 * What to do with a line the server writes to stderr (no `vscode` import).
 *
 * `paperlens serve` logs to stderr *and* forwards the records of its `paperlens.*` loggers to the
 * editor as window/logMessage once the session is initialised. So those lines would be shown twice
 * in the output channel: after initialisation they are kept at trace level only. Everything else
 * (tracebacks, other libraries, anything before initialisation) is shown at its own level.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface ServerLogLine {
  time: string;
  level: string;
  logger: string;
  message: string;
}

// "2026-11-23 13:50:31,410 INFO paperlens.lsp.session: indexed ..." (logging.Formatter of `serve`)
const LINE = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) (DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.\-]+): (.*)$/;

export function parseServerLogLine(line: string): ServerLogLine | undefined {
  const m = LINE.exec(line);
  return m ? { time: m[1], level: m[2], logger: m[3], message: m[4] } : undefined;
}

const LEVELS: Record<string, LogLevel> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error', CRITICAL: 'error' };

/**
 * @param forwarded the server already forwards its log as window/logMessage (initialised)
 * @returns the level to log the line at, and the text (without the duplicate time stamp)
 */
export function stderrLine(line: string, forwarded: boolean): { level: LogLevel; text: string } | undefined {
  if (!line.trim()) return undefined;
  const parsed = parseServerLogLine(line);
  if (!parsed) return { level: 'error', text: line }; // a traceback or a crash message
  const own = parsed.logger === 'paperlens' || parsed.logger.startsWith('paperlens.');
  const text = `[${parsed.logger}] ${parsed.message}`;
  if (own && forwarded) return { level: 'trace', text };
  return { level: LEVELS[parsed.level] ?? 'info', text };
}
