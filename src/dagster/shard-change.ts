import { DEFAULT_PIPELINES_PER_SHARD } from './environments.ts';
import { withMember, withoutMember, type ShardFiles, type ShardMember } from './shard-files.ts';
import { placeInShard } from './shard-placement.ts';
import type { Workspace, WorkspaceChange } from './workspace.ts';

/** What deploying a pipeline into a shard needs of its compiled version (a CompiledPipeline is one). */
export interface Deployable extends ShardMember {
  orgSlug: string;
  contentHash: string;
  /** The pipeline.json format it was compiled for: shard members on an older one are recompiled. */
  format: number;
  /** Where the pipeline lived before shards (pipeline_<hex12>), taken out when it moves. */
  legacyLocationName: string;
}

/**
 * Whether another deployment's change of one of these locations is still unsettled (its copy of
 * what was there waits in .previous, as recovery left it): a change made now would be undone by its
 * rollback, so it waits. Ask under the workspace lock, after recoverWorkspace.
 */
export function unsettled(workspace: Workspace, locations: Array<string | null | undefined>): boolean {
  const names = new Set(locations);
  return workspace.keptCopies().some((copy) => names.has(copy.location));
}

/** Tries `attempt` until it stops answering 'wait', half a second apart, for at most `ms`; null when it still waits. */
export async function untilSettled<T>(attempt: () => Promise<T | 'wait'>, ms: number): Promise<T | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await attempt();
    if (result !== 'wait') return result;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The shard a pipeline is in, or goes to, read from the workspace on disk (see placeInShard). */
export function shardFor(workspace: Workspace, pipeline: { orgSlug: string; componentName: string }): { shard: string; isNew: boolean } {
  const perShard = workspace.env.pipelinesPerShard ?? DEFAULT_PIPELINES_PER_SHARD;
  return placeInShard(pipeline.orgSlug, pipeline.componentName, workspace.shardsOf(pipeline.orgSlug), perShard);
}

/** The shard's other pipelines whose pipeline.json is of an older format than `format`: what to recompile before it is written. */
export function outdatedMembers(workspace: Workspace, shard: string, except: string, format: number): Array<{ component: string; pipelineId: string; version: number }> {
  return workspace.componentsIn(shard).flatMap((component) => {
    const member = component === except ? null : workspace.memberOf(shard, component);
    return member && member.format < format ? [{ component, pipelineId: member.pipelineId, version: member.version }] : [];
  });
}

/**
 * The shard's files with `pipeline`'s component written and each outdated member replaced by its
 * recompiled version, and the components so written; null when an outdated member has no
 * recompiled version yet.
 */
export function shardWith(workspace: Workspace, shard: string, pipeline: Deployable, recompiled: Map<string, ShardMember>): { files: ShardFiles; written: string[] } | null {
  let files = workspace.readShard(shard);
  const written: string[] = [];
  for (const { component } of outdatedMembers(workspace, shard, pipeline.componentName, pipeline.format)) {
    const member = recompiled.get(component);
    if (!member) return null;
    files = withMember(shard, files, member);
    written.push(component);
  }
  return { files: withMember(shard, files, pipeline), written: [...written, pipeline.componentName] };
}

/**
 * Takes a pipeline's component out of its shard (the shard leaves the workspace when it was the
 * last) and its legacy location (when named) out, in one change of workspace.yaml; null when
 * neither was there. The shard is staged and swapped like a deploy's, so that a kill part-way
 * leaves the shard whole. Call it under the workspace lock, then commit the change.
 */
export function removePipeline(workspace: Workspace, pipelineId: string, legacyLocationName?: string): { change: WorkspaceChange; shard: string | null; shardLeft: boolean } | null {
  const found = workspace.findPipeline(pipelineId);
  const legacy = legacyLocationName && workspace.hasLocation(legacyLocationName) ? [legacyLocationName] : [];
  if (!found && legacy.length === 0) return null;
  if (!found) return { change: workspace.swapIn(legacy[0]!, null), shard: null, shardLeft: false };
  const files = withoutMember(found.shard, workspace.readShard(found.shard), found.component);
  const staged = files ? workspace.stage(found.shard, files) : null;
  return { change: workspace.swapIn(found.shard, staged, { remove: legacy }), shard: found.shard, shardLeft: !files };
}
