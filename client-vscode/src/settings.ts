/**
 * The paperlens settings tree, validated and normalised (no `vscode` import: unit-tested).
 *
 * VS Code keeps the settings as `paperlens.*` (see `contributes.configuration` in package.json);
 * the server (server/paperlens/config.py) reads the same tree in camelCase, with two differences
 * handled by {@link toServerSettings}: VS Code's `paperlens.trace.server` is the server's
 * `trace` string, and `paperlens.server.*` (how the client starts the server) is not sent.
 */

export type TraceLevel = 'off' | 'messages' | 'verbose';
export type SummaryProvider = 'extractive' | 'openai';

export interface ServerSettings {
  paperFolders: string[];
  indexPath: string;
  indexWorkers: number;
  completion: { limit: number };
  summary: {
    provider: SummaryProvider;
    model: string;
    baseUrl: string;
    apiKeyEnv: string;
    maxInputTokens: number;
    timeoutSeconds: number;
  };
  trace: TraceLevel;
}

/** Everything the extension reads: the server's tree plus client-only settings. */
export interface ClientSettings {
  server: ServerSettings;
  pythonPath: string;
}

export interface Normalised {
  settings: ClientSettings;
  /** Human-readable problems, each naming the setting; the default was kept for each. */
  errors: string[];
}

export const TRACE_LEVELS: readonly TraceLevel[] = ['off', 'messages', 'verbose'];
export const SUMMARY_PROVIDERS: readonly SummaryProvider[] = ['extractive', 'openai'];
export const COMPLETION_LIMIT_MAX = 500;

export function defaultServerSettings(): ServerSettings {
  return {
    paperFolders: [],
    indexPath: '',
    indexWorkers: 0,
    completion: { limit: 50 },
    summary: {
      provider: 'extractive',
      model: 'gpt-4o-mini',
      baseUrl: '',
      apiKeyEnv: 'OPENAI_API_KEY',
      maxInputTokens: 6000,
      timeoutSeconds: 30,
    },
    trace: 'off',
  };
}

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Folds VS Code's flattened keys ("summary.provider": x) into nested objects, so that both the
 * object returned by `workspace.getConfiguration('paperlens')` and a hand-written flat object work.
 */
export function unflatten(raw: Raw): Raw {
  const out: Raw = {};
  for (const [key, value] of Object.entries(raw)) {
    const parts = key.split('.');
    let target: Raw = out;
    let ok = true;
    for (const part of parts.slice(0, -1)) {
      if (target[part] === undefined) target[part] = {};
      const next = target[part];
      if (!isObject(next)) { ok = false; break; }
      target = next;
    }
    if (!ok) continue;
    const last = parts[parts.length - 1];
    const value2 = isObject(value) ? unflatten(value) : value;
    if (isObject(value2) && isObject(target[last])) {
      target[last] = { ...(target[last] as Raw), ...value2 };
    } else {
      target[last] = value2;
    }
  }
  return out;
}

class Reader {
  errors: string[] = [];

  constructor(private readonly raw: Raw) {}

  private get(path: string): unknown {
    let cur: unknown = this.raw;
    for (const p of path.split('.')) {
      if (!isObject(cur)) return undefined;
      cur = cur[p];
    }
    return cur;
  }

  private fail(path: string, why: string, value: unknown, dflt: unknown): void {
    this.errors.push(`paperlens.${path} ${why}, got ${JSON.stringify(value)}; using the default ${JSON.stringify(dflt)}`);
  }

  string(path: string, dflt: string): string {
    const v = this.get(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string') { this.fail(path, 'must be a string', v, dflt); return dflt; }
    return v;
  }

  strings(path: string, dflt: string[]): string[] {
    let v = this.get(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'string') v = [v];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      this.fail(path, 'must be a list of strings', v, dflt);
      return dflt;
    }
    return (v as string[]).map((s) => s.trim()).filter((s) => s.length > 0);
  }

  number(path: string, dflt: number, opts: { integer?: boolean; min?: number; max?: number }): number {
    const v = this.get(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.fail(path, opts.integer ? 'must be a whole number' : 'must be a number', v, dflt);
      return dflt;
    }
    if (opts.integer && !Number.isInteger(v)) { this.fail(path, 'must be a whole number', v, dflt); return dflt; }
    if (opts.min !== undefined && v < opts.min) { this.fail(path, `must be at least ${opts.min}`, v, dflt); return dflt; }
    if (opts.max !== undefined && v > opts.max) { this.fail(path, `must be at most ${opts.max}`, v, dflt); return dflt; }
    return v;
  }

  choice<T extends string>(path: string, dflt: T, choices: readonly T[]): T {
    const v = this.get(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      this.fail(path, `must be one of ${choices.join(', ')}`, v, dflt);
      return dflt;
    }
    return v as T;
  }
}

/**
 * Validates the `paperlens` section (as `workspace.getConfiguration('paperlens')` or
 * `{paperlens: {...}}`) the way the server does: an ill-typed or out-of-range value is reported
 * and its default kept, so a typo never stops the extension.
 */
export function normaliseSettings(input: unknown): Normalised {
  let raw: Raw = isObject(input) ? input : {};
  if (isObject(raw.paperlens)) raw = raw.paperlens;
  raw = unflatten(raw);
  const d = defaultServerSettings();
  const r = new Reader(raw);
  // the server's `trace` is a string; VS Code's is the object {server: level}
  const traceRaw = isObject(raw.trace) ? 'trace.server' : 'trace';
  const server: ServerSettings = {
    paperFolders: r.strings('paperFolders', d.paperFolders),
    indexPath: r.string('indexPath', d.indexPath).trim(),
    indexWorkers: r.number('indexWorkers', d.indexWorkers, { integer: true, min: 0 }),
    completion: {
      limit: r.number('completion.limit', d.completion.limit, { integer: true, min: 1, max: COMPLETION_LIMIT_MAX }),
    },
    summary: {
      provider: r.choice('summary.provider', d.summary.provider, SUMMARY_PROVIDERS),
      model: r.string('summary.model', d.summary.model),
      baseUrl: r.string('summary.baseUrl', d.summary.baseUrl).trim(),
      apiKeyEnv: r.string('summary.apiKeyEnv', d.summary.apiKeyEnv).trim(),
      maxInputTokens: r.number('summary.maxInputTokens', d.summary.maxInputTokens, { integer: true, min: 256 }),
      timeoutSeconds: r.number('summary.timeoutSeconds', d.summary.timeoutSeconds, { min: 1 }),
    },
    trace: r.choice(traceRaw, d.trace, TRACE_LEVELS),
  };
  const pythonPath = r.string('server.pythonPath', '').trim();
  return { settings: { server, pythonPath }, errors: r.errors };
}

/** The object the server receives (initializationOptions.paperlens, workspace/configuration). */
export function toServerSettings(input: unknown): ServerSettings {
  return normaliseSettings(input).settings.server;
}

/** `initializationOptions` for the server: `{paperlens: <settings>}`. */
export function initializationOptions(input: unknown): { paperlens: ServerSettings } {
  return { paperlens: toServerSettings(input) };
}

/** Does a configuration change event touching `section` require restarting the server process? */
export const RESTART_SETTINGS: readonly string[] = ['paperlens.server.pythonPath'];
