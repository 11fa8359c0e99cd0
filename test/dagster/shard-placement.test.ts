import { describe, expect, it } from 'vitest';
import { placeInShard, type ShardSlot } from '../../src/dagster/shard-placement.ts';

/** Places pipelines one after another as deploys would, each into the shards the earlier ones made. */
function placeAll(names: string[], perShard: number, shards: ShardSlot[] = []): { shards: ShardSlot[]; placed: Record<string, string> } {
  const placed: Record<string, string> = {};
  for (const name of names) {
    const { shard } = placeInShard('acme', name, shards, perShard);
    placed[name] = shard;
    const n = Number(shard.split('_').pop());
    const slot = shards.find((s) => s.n === n);
    if (slot) {
      if (!slot.components.includes(name)) slot.components.push(name);
    } else shards.push({ n, components: [name] });
  }
  return { shards, placed };
}

describe('placing pipelines in an org\'s shards', () => {
  it('fills a shard up to pipelines_per_shard, then starts the next', () => {
    const names = Array.from({ length: 7 }, (_, i) => `p${i}`);
    const { shards } = placeAll(names, 3);
    expect(shards.map((s) => [s.n, s.components])).toEqual([
      [1, ['p0', 'p1', 'p2']],
      [2, ['p3', 'p4', 'p5']],
      [3, ['p6']],
    ]);
    expect(placeInShard('acme', 'p7', shards, 3)).toEqual({ shard: 'acme_shard_3', isNew: false });
    expect(placeInShard('acme', 'p7', shards.slice(0, 2), 3)).toEqual({ shard: 'acme_shard_3', isNew: true });
  });

  it('keeps a pipeline where it is on every redeploy, even once its shard is over a lowered limit', () => {
    const { shards, placed } = placeAll(['a', 'b', 'c', 'd', 'e'], 2);
    for (let round = 0; round < 3; round++) {
      for (const name of ['e', 'a', 'c', 'b', 'd']) expect(placeInShard('acme', name, shards, 1).shard).toBe(placed[name]);
    }
  });

  it('puts a new pipeline into the lowest-numbered shard with room, and reuses a free number', () => {
    const shards: ShardSlot[] = [
      { n: 3, components: ['x'] },
      { n: 1, components: ['a', 'b'] },
    ];
    expect(placeInShard('acme', 'new', shards, 2)).toEqual({ shard: 'acme_shard_3', isNew: false });
    expect(placeInShard('acme', 'new', [{ n: 1, components: ['a', 'b'] }, { n: 3, components: ['x', 'y'] }], 2)).toEqual({ shard: 'acme_shard_2', isNew: true });
    expect(placeInShard('acme', 'first', [], 100)).toEqual({ shard: 'acme_shard_1', isNew: true });
  });
});
