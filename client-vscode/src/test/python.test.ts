import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { chooseInterpreter, expandPath, IMPORT_CHECK_ARGS, importFailureMessage, SERVER_ARGS } from '../python';

describe('chooseInterpreter', () => {
  it('prefers paperlens.server.pythonPath', () => {
    assert.deepEqual(chooseInterpreter({ configured: '/venv/bin/python', pythonExtension: '/other/python' }), { command: '/venv/bin/python', source: 'setting' });
  });
  it('then the Python extension', () => {
    assert.deepEqual(chooseInterpreter({ configured: '  ', pythonExtension: '/ext/python' }), { command: '/ext/python', source: 'python-extension' });
  });
  it('then python3 (python on Windows)', () => {
    assert.deepEqual(chooseInterpreter({ platform: 'linux' }), { command: 'python3', source: 'default' });
    assert.deepEqual(chooseInterpreter({ platform: 'win32', pythonExtension: '' }), { command: 'python', source: 'default' });
  });
  it('expands ~, ${workspaceFolder}, ${env:X} and relative paths', () => {
    const inputs = { home: '/home/u', workspaceFolder: '/ws', env: { VENV: '/opt/v' } };
    assert.equal(expandPath('~/.venv/bin/python', inputs), '/home/u/.venv/bin/python');
    assert.equal(expandPath('${workspaceFolder}/.venv/bin/python', inputs), '/ws/.venv/bin/python');
    assert.equal(expandPath('${env:VENV}/bin/python', inputs), '/opt/v/bin/python');
    assert.equal(expandPath('.venv/bin/python', inputs), '/ws/.venv/bin/python');
    assert.equal(expandPath('python3.11', inputs), 'python3.11');
    assert.equal(chooseInterpreter({ configured: '~/py', home: '/h' }).command, '/h/py');
  });
});

describe('server command line', () => {
  it('is <python> -m paperlens serve, and the check imports paperlens', () => {
    assert.deepEqual([...SERVER_ARGS], ['-m', 'paperlens', 'serve']);
    assert.equal(IMPORT_CHECK_ARGS[0], '-c');
    assert.match(IMPORT_CHECK_ARGS[1], /import paperlens/);
  });
});

describe('importFailureMessage', () => {
  it('tells how to install paperlens when the import fails', () => {
    const msg = importFailureMessage({ command: '/usr/bin/python3', source: 'default' }, {
      notFound: false,
      detail: 'Traceback (most recent call last):\n  File "<string>", line 1\nModuleNotFoundError: No module named \'paperlens\'\n',
    });
    assert.match(msg, /not installed for \/usr\/bin\/python3/);
    assert.match(msg, /pip install paperlens/);
    assert.match(msg, /paperlens\.server\.pythonPath/);
    assert.match(msg, /No module named 'paperlens'/);
    assert.doesNotMatch(msg, /Traceback/);
  });
  it('tells to set the path when Python cannot run', () => {
    const msg = importFailureMessage({ command: '/nope/python', source: 'setting' }, { notFound: true, detail: 'spawn /nope/python ENOENT' });
    assert.match(msg, /cannot run \/nope\/python \(paperlens\.server\.pythonPath\)/);
    assert.match(msg, /Set paperlens\.server\.pythonPath/);
  });
});
