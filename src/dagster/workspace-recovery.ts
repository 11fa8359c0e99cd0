import type { DeploymentRepo, DeploymentStatus } from './deployment-repo.ts';
import type { KeptCopy, Workspace } from './workspace.ts';

export interface Recovered {
  /** Locations whose kept copy went back in place: Dagster should reload them. */
  restored: string[];
  /** Folders deleted: scratch, and kept copies no longer wanted. */
  removed: string[];
}

/**
 * Clears up what deploys that died part-way left in a workspace. Call it under the environment's
 * workspace lock, with `repo` on the lock's transaction (WorkspaceLocks.run), at start and before
 * every deploy's change (so a resumed deployment starts from what was there before its first try).
 * `deploying` is the deployment the caller holds the lease of and is about to deploy, if any (not
 * every deployment its worker holds: one worker deploys several at once, each with its own copy).
 *
 * What counts as stale, so that nothing another live process is working on is touched (another
 * instance sharing the workspace and the store, or another worker of this one):
 * - .staging and .trash entries, always: a location is written into .staging and renamed into
 *   place, and a folder moved into .trash and deleted, inside one hold of the workspace lock. We
 *   hold it, so whatever is there belongs to a process that died while holding it.
 * - a kept copy in .previous only when its deployment is no longer worked on by anyone else: it
 *   waits there while Dagster loads the new version, outside the lock, for seconds or minutes. A
 *   deployment pending or in progress, other than `deploying`, keeps its copy whoever holds its
 *   lease and whether or not it ran out (a slow worker may still renew it; whoever resumes it holds
 *   the lease and clears it then, as `deploying`). Statuses that end a deployment never change
 *   back, so a copy judged by one is judged for good.
 * A stale copy is put back when its deployment did not succeed (failed, or `deploying`, resumed):
 * it is the version that was live before, and the only copy of it if the deploy died between its
 * two renames. It is deleted when its deployment was deployed or written (the new
 * version belongs there) or no longer exists (its pipeline was deleted). A copy whose name carries
 * no deployment goes back only if nothing is in its place.
 */
export async function recoverWorkspace(workspace: Workspace, repo: DeploymentRepo, deploying?: string): Promise<Recovered> {
  const removed = workspace.scratch();
  for (const dir of removed) workspace.discard(dir);
  const copies = workspace.keptCopies();
  const statuses = await repo.statuses(copies.flatMap((c) => (c.deploymentId ? [c.deploymentId] : [])));
  const restored: string[] = [];
  for (const copy of copies) {
    const status = copy.deploymentId ? (statuses.get(copy.deploymentId) ?? null) : undefined;
    const fate = fateOf(copy, status, deploying, workspace.hasLocation(copy.location));
    if (fate === 'restore') {
      workspace.restore(copy);
      restored.push(copy.location);
    } else if (fate === 'discard') {
      workspace.discard(copy.dir);
      removed.push(copy.dir);
    }
  }
  return { restored, removed };
}

function fateOf(copy: KeptCopy, status: DeploymentStatus | null | undefined, deploying: string | undefined, inPlace: boolean): 'restore' | 'discard' | 'leave' {
  if (status === undefined) return inPlace ? 'discard' : 'restore';
  if (status === null) return 'discard';
  switch (status) {
    case 'pending':
    case 'in_progress':
      return copy.deploymentId === deploying ? 'restore' : 'leave';
    case 'failed':
      return 'restore';
    case 'deployed':
    case 'written':
      return 'discard';
  }
}
