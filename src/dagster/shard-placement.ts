import { shardName } from './shard-files.ts';

/** One of an org's shards as found in a workspace: its number and the components it holds. */
export interface ShardSlot {
  n: number;
  components: string[];
}

/**
 * Which of the org's shards a pipeline goes to. One already in a shard stays there (whatever the
 * limit is now, so a deploy never moves a pipeline and its schedules between locations); a new
 * one goes to the lowest-numbered shard with room, else to a new shard with the lowest free number.
 */
export function placeInShard(orgSlug: string, component: string, shards: ShardSlot[], pipelinesPerShard: number): { shard: string; isNew: boolean } {
  const sorted = [...shards].sort((a, b) => a.n - b.n);
  const home = sorted.find((s) => s.components.includes(component)) ?? sorted.find((s) => s.components.length < pipelinesPerShard);
  if (home) return { shard: shardName(orgSlug, home.n), isNew: false };
  const taken = new Set(sorted.map((s) => s.n));
  let n = 1;
  while (taken.has(n)) n++;
  return { shard: shardName(orgSlug, n), isNew: true };
}
