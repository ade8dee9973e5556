import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { latestSearch } from '../latest';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('latestSearch', () => {
  it('debounces typing into one request', async () => {
    const sent: string[] = [];
    const got: string[] = [];
    const s = latestSearch<string>({ delayMs: 30, fetch: async (q) => { sent.push(q); return q.toUpperCase(); }, deliver: (_q, r) => got.push(r) });
    s.update('g');
    s.update('ga');
    s.update('gaze');
    await sleep(80);
    assert.deepEqual(sent, ['gaze']);
    assert.deepEqual(got, ['GAZE']);
    s.dispose();
  });

  it('drops answers to stale requests', async () => {
    const got: string[] = [];
    const busy: boolean[] = [];
    const s = latestSearch<string>({
      delayMs: 0,
      fetch: (q) => sleep(q === 'slow' ? 60 : 5).then(() => q),
      deliver: (_q, r) => got.push(r),
      onBusy: (b) => busy.push(b),
    });
    s.now('slow');
    await sleep(10);
    s.now('fast');
    await sleep(100);
    assert.deepEqual(got, ['fast']);
    assert.equal(s.sent, 2);
    assert.equal(busy[busy.length - 1], false);
  });

  it('reports errors of the latest request only, and nothing after dispose', async () => {
    const errors: unknown[] = [];
    const got: string[] = [];
    const s = latestSearch<string>({ delayMs: 0, fetch: async (q) => { if (q === 'bad') throw new Error('boom'); return q; }, deliver: (_q, r) => got.push(r), onError: (_q, e) => errors.push(e) });
    s.now('bad');
    await sleep(5);
    assert.equal((errors[0] as Error).message, 'boom');
    s.update('later');
    s.dispose();
    await sleep(20);
    assert.deepEqual(got, []);
  });
});
