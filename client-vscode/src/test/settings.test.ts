import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { defaultServerSettings, initializationOptions, normaliseSettings, toServerSettings, unflatten } from '../settings';

// tests run from client-vscode/ (npm test)
const pkg = JSON.parse(readFileSync(path.resolve('package.json'), 'utf8'));
const props: Record<string, any> = pkg.contributes.configuration.properties;

describe('normaliseSettings', () => {
  it('gives the defaults for an empty section', () => {
    const { settings, errors } = normaliseSettings({});
    assert.deepEqual(settings.server, defaultServerSettings());
    assert.equal(settings.pythonPath, '');
    assert.deepEqual(errors, []);
  });

  it('reads the object VS Code returns for getConfiguration().get("paperlens")', () => {
    const { settings, errors } = normaliseSettings({
      paperFolders: ['papers', ' ~/lib '],
      indexPath: '/tmp/idx',
      indexWorkers: 2,
      completion: { limit: 20 },
      summary: { provider: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:8080/v1', apiKeyEnv: 'K', maxInputTokens: 1000, timeoutSeconds: 2.5 },
      trace: { server: 'verbose' },
      server: { pythonPath: ' /venv/bin/python ' },
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(settings.server.paperFolders, ['papers', '~/lib']);
    assert.equal(settings.server.indexWorkers, 2);
    assert.equal(settings.server.completion.limit, 20);
    assert.equal(settings.server.summary.provider, 'openai');
    assert.equal(settings.server.summary.timeoutSeconds, 2.5);
    assert.equal(settings.server.trace, 'verbose');
    assert.equal(settings.pythonPath, '/venv/bin/python');
  });

  it('accepts {paperlens: {...}}, flattened dotted keys and a single folder string', () => {
    const { settings, errors } = normaliseSettings({ paperlens: { 'completion.limit': 7, 'summary.provider': 'openai', paperFolders: 'papers', 'trace.server': 'messages' } });
    assert.deepEqual(errors, []);
    assert.equal(settings.server.completion.limit, 7);
    assert.equal(settings.server.summary.provider, 'openai');
    assert.deepEqual(settings.server.paperFolders, ['papers']);
    assert.equal(settings.server.trace, 'messages');
  });

  it('reports ill-typed and out-of-range values and keeps the defaults', () => {
    const { settings, errors } = normaliseSettings({
      paperFolders: [1, 2],
      indexWorkers: -1,
      completion: { limit: 501 },
      summary: { provider: 'gpt', maxInputTokens: 12.5, timeoutSeconds: 0 },
      trace: { server: 'loud' },
      indexPath: 3,
    });
    const d = defaultServerSettings();
    assert.deepEqual(settings.server, d);
    assert.equal(errors.length, 8, errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('paperlens.completion.limit must be at most 500')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.indexWorkers must be at least 0')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.summary.provider must be one of extractive, openai')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.trace.server must be one of off, messages, verbose')));
    assert.ok(errors.some((e) => e.startsWith('paperlens.summary.maxInputTokens must be a whole number')));
    assert.ok(errors.every((e) => e.includes('using the default')));
  });

  it('ignores a non-object section', () => {
    assert.deepEqual(normaliseSettings(null).settings.server, defaultServerSettings());
    assert.deepEqual(normaliseSettings('x').settings.server, defaultServerSettings());
  });
});

describe('what the server receives', () => {
  it('has the server tree only: trace is a string, no client-only keys', () => {
    const s = toServerSettings({ trace: { server: 'verbose' }, server: { pythonPath: '/x' }, completion: { limit: 3 } });
    assert.equal(s.trace, 'verbose');
    assert.equal((s as any).server, undefined);
    assert.deepEqual(Object.keys(s).sort(), ['completion', 'indexPath', 'indexWorkers', 'paperFolders', 'summary', 'trace']);
    assert.deepEqual(initializationOptions({}), { paperlens: defaultServerSettings() });
  });

  it('unflatten folds dotted keys and merges objects', () => {
    assert.deepEqual(unflatten({ 'a.b': 1, a: { c: 2 }, 'x.y.z': 3 }), { a: { b: 1, c: 2 }, x: { y: { z: 3 } } });
  });
});

describe('package.json contributes.configuration', () => {
  const flat = (obj: any, prefix = 'paperlens'): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flat(v, `${prefix}.${k}`));
      else out[`${prefix}.${k}`] = v;
    }
    return out;
  };

  it('mirrors the settings tree with the same defaults', () => {
    const d = flat({ ...defaultServerSettings(), trace: { server: 'off' }, server: { pythonPath: '' } });
    assert.deepEqual(Object.keys(props).sort(), Object.keys(d).sort());
    for (const [key, dflt] of Object.entries(d)) assert.deepEqual(props[key].default, dflt, key);
  });

  it('validates types, enums and minimums, and describes every setting', () => {
    assert.equal(props['paperlens.paperFolders'].type, 'array');
    assert.equal(props['paperlens.paperFolders'].items.type, 'string');
    assert.equal(props['paperlens.indexWorkers'].type, 'integer');
    assert.equal(props['paperlens.indexWorkers'].minimum, 0);
    assert.equal(props['paperlens.completion.limit'].minimum, 1);
    assert.equal(props['paperlens.completion.limit'].maximum, 500);
    assert.equal(props['paperlens.completion.limit'].default, 50);
    assert.deepEqual(props['paperlens.summary.provider'].enum, ['extractive', 'openai']);
    assert.deepEqual(props['paperlens.trace.server'].enum, ['off', 'messages', 'verbose']);
    assert.equal(props['paperlens.summary.apiKeyEnv'].default, 'OPENAI_API_KEY');
    for (const [key, p] of Object.entries(props)) assert.ok(p.markdownDescription || p.description, `${key} has no description`);
  });

  it('every default passes the client validation, and the schema rejects what the validation rejects', () => {
    const values: Record<string, unknown> = {};
    for (const [key, p] of Object.entries(props)) values[key.replace(/^paperlens\./, '')] = p.default;
    assert.deepEqual(normaliseSettings(values).errors, []);
  });

  it('activates on the document languages and on every contributed command', () => {
    const events: string[] = pkg.activationEvents;
    for (const lang of ['latex', 'tex', 'bibtex', 'markdown', 'typst', 'org', 'plaintext']) assert.ok(events.includes(`onLanguage:${lang}`), lang);
    for (const c of pkg.contributes.commands) assert.ok(events.includes(`onCommand:${c.command}`), c.command);
    const ids = pkg.contributes.commands.map((c: any) => c.command);
    for (const id of ['paperlens.searchPapers', 'paperlens.insertCitation', 'paperlens.showSummary', 'paperlens.openPaperText', 'paperlens.reindex', 'paperlens.restartServer']) {
      assert.ok(ids.includes(id), id);
    }
  });
});

// Cross-check with the Python server's own defaults when its virtualenv is here.
const python = process.env.PAPERLENS_PYTHON || path.resolve('..', '.venv', 'bin', 'python');
describe('the server agrees', { skip: existsSync(python) ? false : `no ${python}` }, () => {
  const run = (code: string): any => JSON.parse(execFileSync(python, ['-c', code], { encoding: 'utf8' }));

  it('has the same defaults (camelCase of config.py)', () => {
    const server = run(
      'import dataclasses, json, re\n' +
        'from paperlens.config import Settings\n' +
        'def camel(d):\n' +
        '    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) if isinstance(v, dict) else v for k, v in d.items()}\n' +
        'print(json.dumps(camel(dataclasses.asdict(Settings()))))',
    );
    assert.deepEqual(server, defaultServerSettings());
  });

  it('accepts what the client sends without a settings error', () => {
    const sent = initializationOptions({ trace: { server: 'verbose' }, server: { pythonPath: '/x' }, paperFolders: ['p'], completion: { limit: 9 } });
    const errors = run(
      'import json, sys\n' +
        'from paperlens.config import settings_from_dict\n' +
        `s, errors = settings_from_dict(json.loads(${JSON.stringify(JSON.stringify(sent))}))\n` +
        'print(json.dumps(errors))',
    );
    assert.deepEqual(errors, []);
  });
});
