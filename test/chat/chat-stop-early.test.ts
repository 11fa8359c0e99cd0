import { afterEach, describe, expect, it } from 'vitest';
import type { Kv } from '../../src/adapters/kv/kv.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { freshKv, KV_KINDS } from '../support/kvs.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { appTransport, readTurn, scriptedModel, user } from './helpers.ts';

/**
 * A KV whose subscription to stop requests is confirmed only when `hear()` is called: an instance
 * that claimed a turn but is not yet listening for stops (its first turn's SUBSCRIBE still on the
 * way), while a stop comes in through another instance.
 */
function deafToStops(kv: Kv): { kv: Kv; hear(): void } {
  let hear!: () => void;
  const heard = new Promise<void>((resolve) => (hear = resolve));
  return {
    hear,
    kv: {
      kind: kv.kind,
      append: (key, value) => kv.append(key, value),
      range: (key, from) => kv.range(key, from),
      get: (key) => kv.get(key),
      set: (key, value, ttl) => kv.set(key, value, ttl),
      del: (key) => kv.del(key),
      incr: (key, ttl, by) => kv.incr(key, ttl, by),
      expire: (key, ttl) => kv.expire(key, ttl),
      publish: (channel, message) => kv.publish(channel, message),
      async subscribe(channel, listener) {
        if (channel === 'chat:stop') await heard;
        return kv.subscribe(channel, listener);
      },
      close: () => kv.close(),
    },
  };
}

describe.each(KV_KINDS)('a stop that comes before the instance running the turn listens for stops (%s KV)', (kind) => {
  let llm: ScriptedLlm | undefined;
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    await llm?.close();
  });

  it('still stops the turn once it starts: the stop was recorded, not only announced', async () => {
    llm = await startScriptedLlm({ steps: [{ hang: true, text: 'never stopping' }] });
    const late = deafToStops(await freshKv(kind));
    t = await createTestApp('pglite', { llm: scriptedModel(llm), kv: late.kv });
    const stream = await appTransport(t).sendMessages({ chatId: 'early', messages: [user('u1', 'go on')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
    // Claimed, so a stop finds it running; its instance has not heard the announcement.
    expect(await t.call('POST', '/v1/chat/early/stop')).toMatchObject({ status: 200, body: { stopped: true } });
    late.hear();

    const turn = await Promise.race([readTurn(stream), new Promise<'still running'>((r) => setTimeout(() => r('still running'), 5_000))]);
    expect(turn).not.toBe('still running');
    const { chunks } = turn as Exclude<typeof turn, string>;
    expect(chunks.at(-1)).toMatchObject({ type: 'abort' });
    expect(chunks.some((c) => c.type === 'text-delta')).toBe(false);
  });
});
