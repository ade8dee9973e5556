/**
 * Which Python runs the server, and what to tell the user when it cannot (no `vscode` import).
 *
 * Order: `paperlens.server.pythonPath`, else the Python extension's active interpreter, else
 * `python3` (`python` on Windows).
 */
import * as os from 'os';
import * as path from 'path';

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface Interpreter {
  command: string;
  source: InterpreterSource;
}

export interface InterpreterInputs {
  /** `paperlens.server.pythonPath` (may be empty). */
  configured?: string;
  /** The Python extension's active interpreter (undefined when it is absent or has none). */
  pythonExtension?: string;
  /** The first workspace folder, for `${workspaceFolder}` and relative paths. */
  workspaceFolder?: string;
  platform?: NodeJS.Platform;
  home?: string;
  env?: Record<string, string | undefined>;
}

/** Expands `~`, `${workspaceFolder}`, `${userHome}` and `${env:NAME}`; resolves relative paths. */
export function expandPath(p: string, inputs: InterpreterInputs = {}): string {
  const home = inputs.home ?? os.homedir();
  const env = inputs.env ?? process.env;
  let out = p.trim();
  out = out.replace(/\$\{workspaceFolder\}/g, inputs.workspaceFolder ?? '');
  out = out.replace(/\$\{userHome\}/g, home);
  out = out.replace(/\$\{env:([^}]+)\}/g, (_m, name: string) => env[name] ?? '');
  if (out === '~') out = home;
  else if (out.startsWith('~/') || out.startsWith('~\\')) out = path.join(home, out.slice(2));
  // a bare command name ("python3") is looked up on PATH; a relative path is taken from the workspace
  const looksLikePath = out.includes('/') || out.includes('\\');
  if (looksLikePath && !path.isAbsolute(out) && inputs.workspaceFolder) {
    out = path.join(inputs.workspaceFolder, out);
  }
  return out;
}

export function defaultPython(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'python' : 'python3';
}

export function chooseInterpreter(inputs: InterpreterInputs): Interpreter {
  const configured = (inputs.configured ?? '').trim();
  if (configured) return { command: expandPath(configured, inputs), source: 'setting' };
  const ext = (inputs.pythonExtension ?? '').trim();
  if (ext) return { command: ext, source: 'python-extension' };
  return { command: defaultPython(inputs.platform), source: 'default' };
}

/** Arguments of the server process (vscode-languageclient appends `--stdio`; the server accepts it). */
export const SERVER_ARGS: readonly string[] = ['-m', 'paperlens', 'serve'];

/** Arguments of the pre-flight check run before starting the server. */
export const IMPORT_CHECK_ARGS: readonly string[] = ['-c', 'import paperlens, sys; sys.stdout.write(paperlens.__version__)'];

const SOURCE_TEXT: Record<InterpreterSource, string> = {
  setting: 'paperlens.server.pythonPath',
  'python-extension': "the Python extension's selected interpreter",
  default: 'the default interpreter',
};

export interface CheckFailure {
  /** The process could not be started at all (ENOENT, EACCES). */
  notFound: boolean;
  /** The last lines of stderr, or the spawn error. */
  detail: string;
}

/** The error notification shown when `python -c "import paperlens"` fails. */
export function importFailureMessage(interp: Interpreter, failure: CheckFailure): string {
  const who = `${interp.command} (${SOURCE_TEXT[interp.source]})`;
  const what = failure.notFound
    ? `paperlens: cannot run ${who}.`
    : `paperlens: the Python package "paperlens" is not installed for ${who}.`;
  const fix = failure.notFound
    ? 'Set paperlens.server.pythonPath to a Python (3.10 or newer) that has paperlens installed.'
    : `Install it with "${interp.command} -m pip install paperlens" (or "pip install -e /path/to/paperlens" from a checkout), or set paperlens.server.pythonPath to a Python that has it.`;
  const detail = failure.detail.trim().split(/\r?\n/).filter((l) => l.trim()).slice(-1)[0];
  return `${what} ${fix}${detail ? ` (${detail.trim()})` : ''}`;
}

export function describeInterpreter(interp: Interpreter): string {
  return `${interp.command} (from ${SOURCE_TEXT[interp.source]})`;
}
