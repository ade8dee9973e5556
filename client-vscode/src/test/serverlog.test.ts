import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseServerLogLine, stderrLine } from '../serverlog';

describe('server stderr', () => {
  const info = '2026-11-23 13:50:31,410 INFO paperlens.lsp.session: indexed /ws: 11 papers';
  it('parses the log format of `paperlens serve`', () => {
    assert.deepEqual(parseServerLogLine(info), { time: '2026-11-23 13:50:31,410', level: 'INFO', logger: 'paperlens.lsp.session', message: 'indexed /ws: 11 papers' });
    assert.equal(parseServerLogLine('Traceback (most recent call last):'), undefined);
  });
  it('keeps forwarded paperlens records at trace level (they arrive as window/logMessage)', () => {
    assert.deepEqual(stderrLine(info, true), { level: 'trace', text: '[paperlens.lsp.session] indexed /ws: 11 papers' });
    assert.deepEqual(stderrLine(info, false), { level: 'info', text: '[paperlens.lsp.session] indexed /ws: 11 papers' });
    assert.equal(stderrLine('2026-11-23 13:50:31,410 WARNING paperlens: settings: x', false)?.level, 'warn');
  });
  it('shows other loggers and tracebacks at their level', () => {
    assert.equal(stderrLine('2026-11-23 13:50:31,410 ERROR pygls.protocol: boom', true)?.level, 'error');
    assert.equal(stderrLine('ModuleNotFoundError: No module named whoosh', true)?.level, 'error');
    assert.equal(stderrLine('   ', true), undefined);
  });
});
