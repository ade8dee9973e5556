/**
 * The paperlens settings, checked against this extension's own `contributes.configuration`
 * (no `vscode` import: unit-tested).
 *
 * The settings tree is declared once, in server/paperlens/config.py; scripts/gen_settings.py
 * writes it into package.json. This module reads that schema generically (types, bounds, choices,
 * lengths) and declares no setting of its own. Rules beyond the schema (the CPUs of the machine,
 * URLs, variable names) are the server's, which reports them. VS Code's tree differs from the
 * server's in two places, handled by {@link toServerSettings}: `paperlens.trace.server` is the
 * server's `trace` string, and `paperlens.server.*` (how this extension starts the server) is not
 * sent.
 */

/** The JSON schema of one setting, as package.json has it. */
export interface PropertySchema {
  type?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  items?: { type?: string; maxLength?: number };
  maxItems?: number;
  maxLength?: number;
}

/** `paperlens.<key>` -> its schema: package.json's `contributes.configuration.properties`. */
export type SettingsSchema = Readonly<Record<string, PropertySchema>>;

/** A JSON object (a tree of settings). */
export type Tree = { [key: string]: unknown };

/** Everything the extension reads: the server's tree plus the client-only settings. */
export interface ClientSettings {
  server: Tree;
  pythonPath: string;
}

export interface Normalised {
  settings: ClientSettings;
  /** Human-readable problems, each naming the setting; the default was kept for each. */
  errors: string[];
}

const PREFIX = 'paperlens.';
/** `paperlens.server.*`: how this extension starts the server, never sent to it. */
const CLIENT_ONLY = 'server.';

function isObject(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The settings schema in a package.json (`context.extension.packageJSON`). */
export function settingsSchema(packageJSON: unknown): SettingsSchema {
  const props = (packageJSON as { contributes?: { configuration?: { properties?: unknown } } })?.contributes?.configuration?.properties;
  const out: Record<string, PropertySchema> = {};
  if (!isObject(props)) return out;
  for (const [name, prop] of Object.entries(props)) {
    if (name.startsWith(PREFIX) && isObject(prop)) out[name] = prop as PropertySchema;
  }
  return out;
}

/**
 * Folds VS Code's flattened keys ("summary.provider": x) into nested objects, so that both the
 * object returned by `workspace.getConfiguration('paperlens')` and a hand-written flat object work.
 */
export function unflatten(raw: Tree): Tree {
  const out: Tree = {};
  for (const [key, value] of Object.entries(raw)) {
    const parts = key.split('.');
    let target: Tree = out;
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
      target[last] = { ...(target[last] as Tree), ...value2 };
    } else {
      target[last] = value2;
    }
  }
  return out;
}

function lookup(tree: Tree, key: string): unknown {
  let cur: unknown = tree;
  for (const part of key.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function put(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let target = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(target[part])) target[part] = {};
    target = target[part] as Tree;
  }
  target[parts[parts.length - 1]] = value;
}

/** Why `value` breaks `prop`, or undefined when it does not (the server's words). */
export function problemWith(prop: PropertySchema, value: unknown): string | undefined {
  if (prop.enum && !prop.enum.includes(value)) return `must be one of ${prop.enum.join(', ')}`;
  switch (prop.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (prop.maxLength !== undefined && value.length > prop.maxLength) return `is longer than ${prop.maxLength} characters`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || (prop.type === 'integer' && !Number.isInteger(value))) {
        return prop.type === 'integer' ? 'must be a whole number' : 'must be a number';
      }
      if (prop.minimum !== undefined && value < prop.minimum) return `must be at least ${prop.minimum}`;
      if (prop.maximum !== undefined && value > prop.maximum) return `must be at most ${prop.maximum}`;
      return undefined;
    case 'array': {
      if (!Array.isArray(value)) return prop.items?.type === 'string' ? 'must be a list of strings' : 'must be a list';
      if (prop.items?.type === 'string' && !value.every((v) => typeof v === 'string')) return 'must be a list of strings';
      if (prop.maxItems !== undefined && value.length > prop.maxItems) return `has more than ${prop.maxItems} items`;
      const most = prop.items?.maxLength;
      if (most !== undefined && value.some((v) => typeof v === 'string' && v.length > most)) return `has an item longer than ${most} characters`;
      return undefined;
    }
    default:
      return undefined;
  }
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Checks the `paperlens` section (as `workspace.getConfiguration().get('paperlens')` or
 * `{paperlens: {...}}`) against `schema`: an ill-typed or out-of-range value is reported and its
 * default kept, so a typo never stops the extension. Returns VS Code's whole tree, client-only
 * settings included (see {@link toServerSettings} for what the server receives).
 */
export function checkSettings(schema: SettingsSchema, input: unknown): { tree: Tree; errors: string[] } {
  let raw: Tree = isObject(input) ? input : {};
  if (isObject(raw.paperlens)) raw = raw.paperlens;
  raw = unflatten(raw);
  // the server's own form, `trace` as a string, is accepted for VS Code's `trace.server`
  if (typeof raw.trace === 'string') raw = { ...raw, trace: { server: raw.trace } };
  const tree: Tree = {};
  const errors: string[] = [];
  for (const [name, prop] of Object.entries(schema)) {
    const key = name.slice(PREFIX.length);
    let value = lookup(raw, key);
    if (value === undefined || value === null) {
      value = prop.default;
    } else {
      if (prop.type === 'array' && prop.items?.type === 'string' && typeof value === 'string') value = [value];
      const problem = problemWith(prop, value);
      if (problem) {
        errors.push(`${name} ${problem}, got ${shown(value)}; using the default ${shown(prop.default)}`);
        value = prop.default;
      }
    }
    put(tree, key, value);
  }
  return { tree, errors };
}

/** The server's part of VS Code's tree: `trace` as a string, no client-only keys. */
function serverPart(tree: Tree): Tree {
  const out: Tree = {};
  for (const [key, value] of Object.entries(tree)) {
    if (key === CLIENT_ONLY.slice(0, -1)) continue;
    out[key] = key === 'trace' && isObject(value) ? value.server : value;
  }
  return out;
}

export function normaliseSettings(schema: SettingsSchema, input: unknown): Normalised {
  const { tree, errors } = checkSettings(schema, input);
  const pythonPath = lookup(tree, `${CLIENT_ONLY}pythonPath`);
  return { settings: { server: serverPart(tree), pythonPath: typeof pythonPath === 'string' ? pythonPath.trim() : '' }, errors };
}

/** The defaults of the server's tree, as the schema gives them. */
export function defaultServerSettings(schema: SettingsSchema): Tree {
  return normaliseSettings(schema, {}).settings.server;
}

/** The object the server receives (initializationOptions.paperlens, workspace/configuration). */
export function toServerSettings(schema: SettingsSchema, input: unknown): Tree {
  return normaliseSettings(schema, input).settings.server;
}

/** `initializationOptions` for the server: `{paperlens: <settings>}`. */
export function initializationOptions(schema: SettingsSchema, input: unknown): { paperlens: Tree } {
  return { paperlens: toServerSettings(schema, input) };
}

/** Settings whose change restarts the server process (the others are sent to it). */
export const RESTART_SETTINGS: readonly string[] = [`${PREFIX}${CLIENT_ONLY}pythonPath`];
