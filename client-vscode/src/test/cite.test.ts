import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { asTextEdit, citationEdits, keyAt, Range } from '../cite';
import { SERVER_COMMANDS } from '../serverApi';

const k = 'vaswani2017attention';
const uri = 'file:///ws/drafts/survey.tex';
const at = (line: number, character: number, endLine = line, endCharacter = character): Range => ({
  start: { line, character },
  end: { line: endLine, character: endCharacter },
});

/** A fake language client: records each command sent and answers from `answer`. */
function fakeClient(answer: (args: unknown[]) => unknown) {
  const calls: Array<{ command: string; args: unknown[] }> = [];
  const exec = async (command: string, args: unknown[]) => {
    calls.push({ command, args });
    return answer(args);
  };
  return { calls, exec };
}

describe('citationEdits asks the server and applies its answer', () => {
  it('sends [uri, {line, character}, key] to paperlens.server.citationInsert and returns its edit', async () => {
    // what the server answers after "as in \cite{devlin2019bert": the separator and the key
    const client = fakeClient(() => ({ range: at(3, 27), newText: `,${k}` }));
    const edits = await citationEdits(client.exec, uri, [at(3, 27)], k);
    assert.deepEqual(client.calls, [{ command: SERVER_COMMANDS.citationInsert, args: [uri, { line: 3, character: 27 }, k] }]);
    assert.deepEqual(edits, [{ range: at(3, 27), newText: `,${k}` }]);
  });

  it('keeps a range the server widens (it may replace what was typed of the citation)', async () => {
    const client = fakeClient(() => ({ range: at(0, 4, 0, 6), newText: `[@${k}]` }));
    assert.deepEqual(await citationEdits(client.exec, uri, [at(0, 6)], k), [{ range: at(0, 4, 0, 6), newText: `[@${k}]` }]);
  });

  it('replaces a selected text: asks at its start, edits over the selection', async () => {
    const client = fakeClient(() => ({ range: at(1, 5), newText: `\\cite{${k}}` }));
    const edits = await citationEdits(client.exec, uri, [at(1, 5, 1, 12)], k);
    assert.deepEqual(client.calls[0].args[1], { line: 1, character: 5 });
    assert.deepEqual(edits, [{ range: at(1, 5, 1, 12), newText: `\\cite{${k}}` }]);
  });

  it('asks once per cursor and keeps their order', async () => {
    const client = fakeClient((args) => {
      const pos = args[1] as { line: number; character: number };
      return { range: at(pos.line, pos.character), newText: pos.line === 0 ? `\\cite{${k}}` : `,${k}` };
    });
    const edits = await citationEdits(client.exec, uri, [at(0, 2), at(4, 9)], k);
    assert.equal(client.calls.length, 2);
    assert.deepEqual(edits.map((e) => e.newText), [`\\cite{${k}}`, `,${k}`]);
  });

  it('inserts the bare key where the server has no syntax (null) or does not serve the document', async () => {
    const client = fakeClient(() => null);
    assert.deepEqual(await citationEdits(client.exec, uri, [at(2, 0)], k), [{ range: at(2, 0), newText: k }]);
    const unserved = fakeClient(() => assert.fail('a document the server does not serve is not asked about'));
    assert.deepEqual(await citationEdits(unserved.exec, 'untitled:Untitled-1', [at(0, 1, 0, 3)], k, false), [{ range: at(0, 1, 0, 3), newText: k }]);
    assert.equal(unserved.calls.length, 0);
  });

  it('refuses an answer that is not {range, newText}, and passes on a failed request', async () => {
    for (const bad of ['\\cite{x}', { newText: 'x' }, { range: at(0, 0) }, { range: { start: { line: -1, character: 0 }, end: { line: 0, character: 0 } }, newText: 'x' }, { range: at(2, 5, 1, 0), newText: 'x' }]) {
      const client = fakeClient(() => bad);
      await assert.rejects(citationEdits(client.exec, uri, [at(0, 0)], k), /paperlens\.server\.citationInsert answered .* not \{range, newText\}/);
    }
    const failing = { exec: async () => { throw new Error('unknown command'); } };
    await assert.rejects(citationEdits(failing.exec, uri, [at(0, 0)], k), /unknown command/);
  });

  it('asTextEdit copies a good answer', () => {
    const answer = { range: at(0, 1, 0, 2), newText: '@k', extra: true };
    const edit = asTextEdit(answer);
    assert.deepEqual(edit, { range: at(0, 1, 0, 2), newText: '@k' });
    assert.notEqual(edit?.range.start, answer.range.start);
    assert.equal(asTextEdit(null), undefined);
  });
});

describe('keyAt', () => {
  const line = 'The Transformer \\cite{vaswani2017attention} replaced recurrence.';
  it('finds the key under the cursor', () => {
    const col = line.indexOf('vaswani') + 3;
    assert.equal(keyAt(line, col), 'vaswani2017attention');
    assert.equal(keyAt(line, line.indexOf('vaswani')), 'vaswani2017attention');
    assert.equal(keyAt('see [@doe:2020].', 9), 'doe:2020');
    assert.equal(keyAt('a  b', 2), undefined);
  });
});
