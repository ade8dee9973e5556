import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ServerStatus } from '../format';
import { followStatus, SERVER_COMMANDS, STATUS_NOTIFICATION } from '../serverApi';

/** A fake language client: answers the status command when told to, pushes notifications. */
function fakeClient() {
  const handlers = new Map<string, (params: unknown) => void>();
  const sent: Array<{ command: string; args: unknown[] }> = [];
  let answer!: (value: unknown) => void;
  let fail!: (err: unknown) => void;
  const client = {
    onNotification(method: string, handler: (params: unknown) => void) {
      handlers.set(method, handler);
      return { dispose: () => handlers.delete(method) };
    },
    exec(command: string, args: unknown[]) {
      sent.push({ command, args });
      return new Promise<unknown>((resolve, reject) => {
        answer = resolve;
        fail = reject;
      });
    },
  };
  const push = (params: unknown) => handlers.get(STATUS_NOTIFICATION)?.(params);
  return { client, sent, handlers, push, answer: (v: unknown) => answer(v), fail: (e: unknown) => fail(e) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('followStatus', () => {
  it('asks paperlens.server.status once, then takes each paperlens/status notification', async () => {
    const fake = fakeClient();
    const seen: ServerStatus[] = [];
    const errors: string[] = [];
    const feed = followStatus(fake.client, (s) => seen.push(s), (e) => errors.push(e));
    assert.deepEqual(fake.sent, [{ command: SERVER_COMMANDS.status, args: [] }]);
    fake.answer({ indexing: true, papers: 0 });
    await settle();
    fake.push({ indexing: true, papers: 3 });
    fake.push({ indexing: false, papers: 7 });
    assert.deepEqual(seen, [{ indexing: true, papers: 0 }, { indexing: true, papers: 3 }, { indexing: false, papers: 7 }]);
    // no polling: the one request is all that was sent
    await settle();
    assert.equal(fake.sent.length, 1);
    assert.deepEqual(errors, []);
    feed.dispose();
    assert.equal(fake.handlers.size, 0);
  });

  it('takes answers and notifications in the order they arrive', async () => {
    const fake = fakeClient();
    const seen: ServerStatus[] = [];
    followStatus(fake.client, (s) => seen.push(s), () => undefined);
    fake.push({ papers: 1 });         // made before the server answered the request
    fake.answer({ papers: 2 });
    await settle();
    assert.deepEqual(seen.map((s) => s.papers), [1, 2]);
  });

  it('reports a failed request or a malformed notification and keeps going', async () => {
    const fake = fakeClient();
    const seen: ServerStatus[] = [];
    const errors: string[] = [];
    followStatus(fake.client, (s) => seen.push(s), (e) => errors.push(e));
    fake.fail(new Error('boom'));
    await settle();
    fake.push('nonsense');
    fake.push({ papers: 4 });
    assert.deepEqual(seen, [{ papers: 4 }]);
    assert.equal(errors.length, 2);
    assert.match(errors[0], /paperlens\.server\.status failed: boom/);
    assert.match(errors[1], /paperlens\/status carried "nonsense"/);
  });

  it('is silent once disposed (a restarted client has a new feed)', async () => {
    const fake = fakeClient();
    const seen: ServerStatus[] = [];
    const feed = followStatus(fake.client, (s) => seen.push(s), () => undefined);
    feed.dispose();
    fake.answer({ papers: 9 });
    await settle();
    fake.push({ papers: 10 });
    assert.deepEqual(seen, []);
  });

  it('names every server command paperlens.server.*', () => {
    assert.deepEqual(Object.values(SERVER_COMMANDS).sort(), [
      'paperlens.server.citationInsert',
      'paperlens.server.openPaperText',
      'paperlens.server.papers',
      'paperlens.server.reindex',
      'paperlens.server.search',
      'paperlens.server.status',
    ]);
  });
});
