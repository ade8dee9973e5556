import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import {
  defaultServerSettings,
  initializationOptions,
  normaliseSettings,
  problemWith,
  settingsSchema,
  toServerSettings,
  unflatten,
} from '../settings';

// tests run from client-vscode/ (npm test)
const pkg = JSON.parse(readFileSync(path.resolve('package.json'), 'utf8'));
const schema = settingsSchema(pkg);
const props: Record<string, any> = pkg.contributes.configuration.properties;
const check = (input: unknown) => normaliseSettings(schema, input);
const DEFAULTS = {
  paperFolders: [],
  indexPath: '',
  indexWorkers: 0,
  index: { backend: 'whoosh' },
  completion: { limit: 50, embeddings: false },
  summary: { provider: 'extractive', model: 'gpt-4o-mini', baseUrl: '', apiKeyEnv: 'OPENAI_API_KEY', maxInputTokens: 6000, timeoutSeconds: 30 },
  diagnostics: { unsupportedCitation: false },
  zotero: { enabled: true, dataDir: '', collections: [] },
  trace: 'off',
};

describe('normaliseSettings against the schema of package.json', () => {
  it('gives the defaults for an empty section', () => {
    const { settings, errors } = check({});
    assert.deepEqual(settings.server, DEFAULTS);
    assert.deepEqual(defaultServerSettings(schema), DEFAULTS);
    assert.equal(settings.pythonPath, '');
    assert.deepEqual(errors, []);
  });

  it('reads the object VS Code returns for getConfiguration().get("paperlens")', () => {
    const { settings, errors } = check({
      paperFolders: ['papers', ' ~/lib '],
      indexPath: '/tmp/idx',
      indexWorkers: 2,
      index: { backend: 'postgresql://lab@db.example.org/papers' },
      completion: { limit: 20, embeddings: true },
      summary: { provider: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:8080/v1', apiKeyEnv: 'K', maxInputTokens: 1000, timeoutSeconds: 2.5 },
      diagnostics: { unsupportedCitation: true },
      zotero: { enabled: false, dataDir: '~/Zotero', collections: ['Retrieval/Classics'] },
      trace: { server: 'verbose' },
      server: { pythonPath: ' /venv/bin/python ' },
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(settings.server, {
      // sent as typed: the server strips strings, for every editor alike
      paperFolders: ['papers', ' ~/lib '],
      indexPath: '/tmp/idx',
      indexWorkers: 2,
      index: { backend: 'postgresql://lab@db.example.org/papers' },
      completion: { limit: 20, embeddings: true },
      summary: { provider: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:8080/v1', apiKeyEnv: 'K', maxInputTokens: 1000, timeoutSeconds: 2.5 },
      diagnostics: { unsupportedCitation: true },
      zotero: { enabled: false, dataDir: '~/Zotero', collections: ['Retrieval/Classics'] },
      trace: 'verbose',
    });
    assert.equal(settings.pythonPath, '/venv/bin/python');
  });

  it('accepts {paperlens: {...}}, flattened dotted keys, a single folder string and trace as a string', () => {
    const { settings, errors } = check({ paperlens: { 'completion.limit': 7, 'summary.provider': 'openai', paperFolders: 'papers', 'trace.server': 'messages' } });
    assert.deepEqual(errors, []);
    assert.deepEqual(settings.server.completion, { limit: 7, embeddings: false });
    assert.equal((settings.server.summary as any).provider, 'openai');
    assert.deepEqual(settings.server.paperFolders, ['papers']);
    assert.equal(settings.server.trace, 'messages');
    assert.equal(check({ trace: 'verbose' }).settings.server.trace, 'verbose');
  });

  it('reports ill-typed and out-of-range values and keeps the defaults', () => {
    const { settings, errors } = check({
      paperFolders: [1, 2],
      indexWorkers: -1,
      completion: { limit: 501 },
      summary: { provider: 'gpt', maxInputTokens: 12.5, timeoutSeconds: 0 },
      trace: { server: 'loud' },
      indexPath: 3,
      server: { pythonPath: ['python3'] },
    });
    assert.deepEqual(settings.server, DEFAULTS);
    assert.equal(settings.pythonPath, '');
    assert.equal(errors.length, 9, errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('paperlens.completion.limit must be at most 500, got 501')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.indexWorkers must be at least 0')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.summary.provider must be one of extractive, openai')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.trace.server must be one of off, messages, verbose')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.summary.maxInputTokens must be a whole number')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.paperFolders must be a list of strings')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.server.pythonPath must be a string')));
    assert.ok(errors.every((e) => e.includes('using the default')));
  });

  it('enforces the maximums the server enforces (settings.ts had none for these)', () => {
    const { settings, errors } = check({ indexWorkers: 33, summary: { maxInputTokens: 2_000_001, timeoutSeconds: 3601 } });
    assert.deepEqual(settings.server, DEFAULTS);
    assert.deepEqual(errors.map((e) => e.split(',')[0]), [
      'paperlens.indexWorkers must be at most 32',
      'paperlens.summary.maxInputTokens must be at most 2000000',
      'paperlens.summary.timeoutSeconds must be at most 3600',
    ]);
  });

  it('checks lengths, and every type the schema may use', () => {
    const errors = check({ indexPath: 'x'.repeat(4097), paperFolders: Array(257).fill('p') }).errors;
    assert.equal(errors.length, 2);
    assert.ok(errors[0].startsWith('paperlens.paperFolders has more than 256 items'));
    assert.ok(errors[1].startsWith('paperlens.indexPath is longer than 4096 characters'));
    assert.ok(errors.every((e) => e.length < 300));
    assert.equal(problemWith({ type: 'boolean' }, 'yes'), 'must be true or false');
    assert.equal(problemWith({ type: 'boolean' }, false), undefined);
    assert.equal(problemWith({ type: 'number', minimum: 1 }, Infinity), 'must be a number');
    assert.equal(problemWith({ type: 'array', items: { type: 'string', maxLength: 2 } }, ['abc']), 'has an item longer than 2 characters');
  });

  it('ignores a non-object section', () => {
    assert.deepEqual(check(null).settings.server, DEFAULTS);
    assert.deepEqual(check('x').settings.server, DEFAULTS);
    assert.deepEqual(settingsSchema(undefined), {});
  });
});

describe('what the server receives', () => {
  it('has the server tree only: trace is a string, no client-only keys', () => {
    const s = toServerSettings(schema, { trace: { server: 'verbose' }, server: { pythonPath: '/x' }, completion: { limit: 3 } });
    assert.equal(s.trace, 'verbose');
    assert.equal(s.server, undefined);
    assert.deepEqual(Object.keys(s).sort(), ['completion', 'diagnostics', 'index', 'indexPath', 'indexWorkers', 'paperFolders', 'summary', 'trace', 'zotero']);
    assert.deepEqual(initializationOptions(schema, {}), { paperlens: DEFAULTS });
  });

  it('unflatten folds dotted keys and merges objects', () => {
    assert.deepEqual(unflatten({ 'a.b': 1, a: { c: 2 }, 'x.y.z': 3 }), { a: { b: 1, c: 2 }, x: { y: { z: 3 } } });
  });

  it('follows the schema it is given: a new setting needs no code here', () => {
    const grown = settingsSchema({
      contributes: { configuration: { properties: { ...props, 'paperlens.hover.maxLines': { type: 'integer', minimum: 1, maximum: 9, default: 4 } } } },
    });
    assert.deepEqual(toServerSettings(grown, {}).hover, { maxLines: 4 });
    assert.deepEqual(toServerSettings(grown, { hover: { maxLines: 7 } }).hover, { maxLines: 7 });
    assert.ok(normaliseSettings(grown, { hover: { maxLines: 10 } }).errors[0].startsWith('paperlens.hover.maxLines must be at most 9'));
  });
});

describe('package.json', () => {
  it('every default passes the client validation', () => {
    const values: Record<string, unknown> = {};
    for (const [key, p] of Object.entries(props)) values[key.replace(/^paperlens\./, '')] = p.default;
    assert.deepEqual(check(values).errors, []);
  });

  it('describes every setting', () => {
    for (const [key, p] of Object.entries(props)) assert.ok(p.markdownDescription || p.description, `${key} has no description`);
  });

  it('activates on the document languages and on every contributed command', () => {
    const events: string[] = pkg.activationEvents;
    for (const lang of ['latex', 'tex', 'bibtex', 'markdown', 'typst', 'org', 'plaintext']) assert.ok(events.includes(`onLanguage:${lang}`), lang);
    for (const c of pkg.contributes.commands) assert.ok(events.includes(`onCommand:${c.command}`), c.command);
    const ids = pkg.contributes.commands.map((c: any) => c.command);
    for (const id of ['paperlens.searchPapers', 'paperlens.insertCitation', 'paperlens.showSummary', 'paperlens.openPaperText', 'paperlens.reindex', 'paperlens.restartServer']) {
      assert.ok(ids.includes(id), id);
    }
    // the server's commands are paperlens.server.*: none of this extension's may start so
    for (const id of ids) assert.ok(!id.startsWith('paperlens.server.'), id);
  });
});

// Cross-check with the Python server when its virtualenv is here.
const python = process.env.PAPERLENS_PYTHON || path.resolve('..', '.venv', 'bin', 'python');
describe('the server agrees', { skip: existsSync(python) ? false : `no ${python}` }, () => {
  const run = (code: string): any => JSON.parse(execFileSync(python, ['-c', code], { encoding: 'utf8' }));

  it('package.json is what config.py generates (scripts/gen_settings.py)', () => {
    const generated = run('import json\nfrom paperlens.config import vscode_configuration\nprint(json.dumps(vscode_configuration()))');
    assert.deepEqual(pkg.contributes.configuration, generated);
  });

  it('has the same defaults (camelCase of config.py)', () => {
    const server = run(
      'import dataclasses, json, re\n' +
        'from paperlens.config import Settings\n' +
        'def camel(d):\n' +
        '    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) if isinstance(v, dict) else v for k, v in d.items()}\n' +
        'print(json.dumps(camel(dataclasses.asdict(Settings()))))',
    );
    assert.deepEqual(server, defaultServerSettings(schema));
  });

  it('accepts what the client sends without a settings error', () => {
    const sent = initializationOptions(schema, { trace: { server: 'verbose' }, server: { pythonPath: '/x' }, paperFolders: ['p'], completion: { limit: 9 } });
    const errors = run(
      'import json, sys\n' +
        'from paperlens.config import settings_from_dict\n' +
        `s, errors = settings_from_dict(json.loads(${JSON.stringify(JSON.stringify(sent))}))\n` +
        'print(json.dumps(errors))',
    );
    assert.deepEqual(errors, []);
  });
});
