import { beforeEach, describe, expect, it } from 'vitest';
import { until } from '../chat/helpers.ts';
import { KV_KINDS, kvPerTest, type TestKv } from '../support/kvs.ts';

/** A listener that records what it gets; `got(n)` waits until it has n messages (delivery is asynchronous in Redis). */
function recorder() {
  const messages: string[] = [];
  return {
    messages,
    listener: (m: string) => void messages.push(m),
    got: (n: number) => until(() => messages.length >= n, `${n} message(s), have ${JSON.stringify(messages)}`),
  };
}

// One contract, two real KVs: this process's memory and a real redis-server.
describe.each(KV_KINDS)('KV contract on %s', (kind) => {
  const fresh = kvPerTest(kind);
  let kv: TestKv;
  beforeEach(async () => {
    kv = await fresh();
  });

  it('appends to lists, returning the new length, and reads them from any index', async () => {
    const text = '{"delta":"é ✓ \\n spaces, 0-1 and \\"quotes\\""}';
    expect(await kv.append('l', 'a')).toBe(1);
    expect(await kv.append('l', text)).toBe(2);
    expect(await kv.append('l', '')).toBe(3);
    expect(await kv.append('other', 'x')).toBe(1);
    expect(await kv.range('l', 0)).toEqual(['a', text, '']);
    expect(await kv.range('l', 1)).toEqual([text, '']);
    expect(await kv.range('l', 2)).toEqual(['']);
    // From the end, or beyond it, or of a list never written: nothing.
    expect(await kv.range('l', 3)).toEqual([]);
    expect(await kv.range('l', 100)).toEqual([]);
    expect(await kv.range('never', 0)).toEqual([]);
    await kv.del('l');
    expect(await kv.range('l', 0)).toEqual([]);
    expect(await kv.append('l', 'again')).toBe(1);
  });

  it('keeps values until overwritten or deleted', async () => {
    expect(await kv.get('v')).toBeNull();
    await kv.set('v', 'one');
    expect(await kv.get('v')).toBe('one');
    await kv.set('v', 'two');
    expect(await kv.get('v')).toBe('two');
    await kv.del('v');
    expect(await kv.get('v')).toBeNull();
    await kv.del('never'); // deleting what is not there is fine
  });

  it('forgets values, lists and counters when they expire, and only those', async () => {
    await kv.set('short', 'v', 1);
    await kv.set('long', 'v', 3600);
    await kv.set('made-permanent', 'v', 1);
    await kv.set('made-permanent', 'w'); // a set without a TTL drops the earlier one
    await kv.append('list', 'x');
    await kv.expire('list', 1);
    // A counter's expiry is set when it is made; later increments do not push it back.
    expect(await kv.incr('counter', 1)).toBe(1);
    expect(await kv.incr('counter', 3600)).toBe(2);
    await until(
      async () => (await kv.get('short')) === null && (await kv.range('list', 0)).length === 0 && (await kv.get('counter')) === null,
      'the one-second keys to expire',
    );
    expect(await kv.get('long')).toBe('v');
    expect(await kv.get('made-permanent')).toBe('w');
    // An expired counter starts again.
    expect(await kv.incr('counter', 3600)).toBe(1);
  });

  it('counts atomically: 100 increments at once give 1…100, each once', async () => {
    const values = await Promise.all(Array.from({ length: 100 }, () => kv.incr('hits', 60)));
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(await kv.get('hits')).toBe('100');
    expect(await kv.incr('hits', 60, 250)).toBe(350);
    expect(await kv.incr('tokens', 60, 40)).toBe(40);
  });

  it('delivers published messages to every listener of the channel until each unsubscribes', async () => {
    const first = recorder();
    const second = recorder();
    const elsewhere = recorder();
    const stopFirst = await kv.subscribe('ch', first.listener);
    const stopSecond = await kv.subscribe('ch', second.listener);
    await kv.subscribe('other', elsewhere.listener);
    await kv.publish('ch', 'one');
    await Promise.all([first.got(1), second.got(1)]);

    stopFirst();
    stopFirst(); // twice is harmless
    await kv.publish('ch', 'two');
    await second.got(2);
    // Messages on one channel come in order, so 'two' reached the first listener by now, if ever.
    expect(first.messages).toEqual(['one']);

    stopSecond(); // the channel's last listener
    await kv.publish('ch', 'three');
    const later = recorder();
    await kv.subscribe('ch', later.listener);
    await kv.publish('ch', 'four');
    await later.got(1);
    expect(later.messages).toEqual(['four']);
    expect(second.messages).toEqual(['one', 'two']);
    expect(elsewhere.messages).toEqual([]);
  });

  it('is one store for two instances: each sees the other\'s appends, values, counts and messages', async () => {
    const other = await kv.another();
    expect(await kv.append('turn', 'a')).toBe(1);
    expect(await other.append('turn', 'b')).toBe(2);
    expect(await kv.range('turn', 0)).toEqual(['a', 'b']);
    expect(await other.range('turn', 1)).toEqual(['b']);

    await kv.set('stop', '1', 60);
    expect(await other.get('stop')).toBe('1');

    const counts = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? kv : other).incr('limit', 60)));
    expect(new Set(counts).size).toBe(100);
    expect(await kv.get('limit')).toBe('100');

    const here = recorder();
    const there = recorder();
    await kv.subscribe('turn-events', here.listener);
    await other.subscribe('turn-events', there.listener);
    await kv.publish('turn-events', 'from kv');
    await other.publish('turn-events', 'from other');
    await Promise.all([here.got(2), there.got(2)]);
    expect(here.messages).toEqual(['from kv', 'from other']);
    expect(there.messages).toEqual(['from kv', 'from other']);
  });
});
