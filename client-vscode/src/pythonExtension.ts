/**
 * The Python extension's active interpreter, when `ms-python.python` is installed. Never throws:
 * any problem (absent extension, old API, slow activation) yields `undefined`.
 */
import * as vscode from 'vscode';

export const PYTHON_EXTENSION_ID = 'ms-python.python';

interface EnvironmentPath {
  id?: string;
  path?: string;
}

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath?: (resource?: vscode.Uri) => EnvironmentPath | undefined;
    resolveEnvironment?: (env: EnvironmentPath | string) => Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails?: (resource?: vscode.Uri) => { execCommand?: string[] } | undefined;
  };
}

function withTimeout<T>(p: Thenable<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    Promise.resolve(p).then(
      (v) => { clearTimeout(t); resolve(v); },
      () => { clearTimeout(t); resolve(undefined); },
    );
  });
}

async function api(timeoutMs: number): Promise<PythonApi | undefined> {
  try {
    const ext = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION_ID);
    if (!ext) return undefined;
    if (!ext.isActive) return await withTimeout(ext.activate(), timeoutMs);
    return ext.exports;
  } catch {
    return undefined;
  }
}

/** The executable of the Python extension's selected interpreter for `resource`, if any. */
export async function pythonExtensionInterpreter(resource?: vscode.Uri, timeoutMs = 10000): Promise<string | undefined> {
  const py = await api(timeoutMs);
  if (!py) return undefined;
  try {
    const envs = py.environments;
    if (envs?.getActiveEnvironmentPath) {
      const active = envs.getActiveEnvironmentPath(resource);
      if (active) {
        if (envs.resolveEnvironment) {
          const resolved = await withTimeout(envs.resolveEnvironment(active), timeoutMs);
          const exe = resolved?.executable?.uri?.fsPath;
          if (exe) return exe;
        }
        if (active.path) return active.path;
      }
    }
    const cmd = py.settings?.getExecutionDetails?.(resource)?.execCommand;
    if (cmd && cmd.length === 1 && cmd[0]) return cmd[0];
  } catch {
    // an API we do not know: fall through to the default interpreter
  }
  return undefined;
}

/** Subscribes to interpreter changes in the Python extension, when it is installed. */
export async function onPythonInterpreterChanged(listener: () => void): Promise<vscode.Disposable | undefined> {
  try {
    const ext = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION_ID);
    if (!ext || !ext.isActive) return undefined;
    const ev = ext.exports?.environments?.onDidChangeActiveEnvironmentPath;
    return ev ? ev(() => listener()) : undefined;
  } catch {
    return undefined;
  }
}
