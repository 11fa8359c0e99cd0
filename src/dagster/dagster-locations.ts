import { LOCATION_ENTRY_QUERY, RELOAD_LOCATION, RELOAD_WORKSPACE, WORKSPACE_LOCATIONS } from '../adapters/dagster/documents.ts';
import { dagsterMessage } from '../adapters/dagster/dagster-errors.ts';
import type { DagsterGraphqlClient } from '../adapters/dagster/graphql-client.ts';

export type LoadOutcome = { ok: true } | { ok: false; error: string };

interface LocationEntry {
  name: string;
  loadStatus: 'LOADING' | 'LOADED';
  locationOrLoadError: { __typename: string; message?: string; stack?: string[]; errorChain?: Array<{ error: { message: string } }> } | null;
}

/**
 * Asks a Dagster webserver to (re)load one code location and says whether it loaded. A location
 * Dagster has not seen yet comes in through reloadWorkspace (reloadRepositoryLocation answers
 * RepositoryLocationNotFound for it); a known one is reloaded alone, unless `wholeWorkspace` asks
 * for a reload of the workspace (another location left workspace.yaml in the same change).
 */
export class DagsterLocations {
  private readonly client: Pick<DagsterGraphqlClient, 'request'>;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly unreachableMs: number;

  constructor(client: Pick<DagsterGraphqlClient, 'request'>, opts: { pollMs?: number; timeoutMs?: number; /** How long a code server that does not answer yet is waited for. */ unreachableMs?: number } = {}) {
    this.client = client;
    this.pollMs = opts.pollMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? 180_000;
    this.unreachableMs = opts.unreachableMs ?? 60_000;
  }

  /**
   * (Re)loads the location; one served by a gRPC code server that does not answer yet (just
   * started for a new shard, or restarting) is asked again until it does or `unreachableMs` pass.
   */
  async load(name: string, opts: { wholeWorkspace?: boolean } = {}): Promise<LoadOutcome> {
    const deadline = Date.now() + this.unreachableMs;
    let outcome = await this.loadOnce(name, opts);
    while (!outcome.ok && outcome.unreachable && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.max(this.pollMs, 1000)));
      // It is in Dagster's workspace now (listed, with its load error): a reload of it alone does.
      outcome = await this.loadOnce(name, {});
    }
    if (!outcome.ok && outcome.unreachable) {
      return {
        ok: false,
        error: `The code server of ${name} did not answer within ${Math.round(this.unreachableMs / 1000)} s (${outcome.error.split('\n')[0]}). With code_servers: grpc, npm run dagster runs one code server per shard: check that it is running and that its output shows ${name} started.`,
      };
    }
    return outcome.ok ? { ok: true } : { ok: false, error: outcome.error };
  }

  private async loadOnce(name: string, opts: { wholeWorkspace?: boolean }): Promise<LoadOutcome & { unreachable?: boolean }> {
    const known = !opts.wholeWorkspace && (await this.locationNames()).includes(name);
    let entry: LocationEntry | null;
    if (known) {
      const data = await this.client.request(RELOAD_LOCATION, { name });
      const result = data.reloadRepositoryLocation;
      if (result.__typename !== 'WorkspaceLocationEntry') return { ok: false, error: `Dagster could not reload ${name}: ${dagsterMessage(result.message ?? result.__typename)}` };
      entry = result as LocationEntry;
    } else {
      const data = await this.client.request(RELOAD_WORKSPACE);
      const result = data.reloadWorkspace;
      if (result.__typename !== 'Workspace') return { ok: false, error: `Dagster could not reload its workspace: ${dagsterMessage(result.message ?? result.__typename)}` };
      entry = (result.locationEntries as LocationEntry[]).find((e) => e.name === name) ?? null;
      if (!entry) {
        return { ok: false, error: `Dagster reloaded its workspace but does not list location ${name}: is the webserver serving this environment's workspace.yaml?` };
      }
    }
    entry = await this.untilLoaded(name, entry);
    return outcomeOf(entry);
  }

  /** Reloads the workspace after a location was removed from workspace.yaml. */
  async reloadWorkspace(): Promise<void> {
    await this.client.request(RELOAD_WORKSPACE);
  }

  private async locationNames(): Promise<string[]> {
    const data = await this.client.request(WORKSPACE_LOCATIONS);
    const ws = data.workspaceOrError;
    return ws.__typename === 'Workspace' ? (ws.locationEntries as LocationEntry[]).map((e) => e.name) : [];
  }

  private async untilLoaded(name: string, first: LocationEntry): Promise<LocationEntry> {
    const deadline = Date.now() + this.timeoutMs;
    let entry = first;
    while (entry.loadStatus !== 'LOADED' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, this.pollMs));
      const data = await this.client.request(LOCATION_ENTRY_QUERY, { name });
      if (data.workspaceLocationEntryOrError?.__typename === 'WorkspaceLocationEntry') entry = data.workspaceLocationEntryOrError;
    }
    return entry;
  }
}

// What Dagster says of a gRPC code server that is not listening (yet): the client's own error, over gRPC's status.
const UNREACHABLE = /DagsterUserCodeUnreachableError|StatusCode\.UNAVAILABLE/;

function outcomeOf(entry: LocationEntry): LoadOutcome & { unreachable?: boolean } {
  if (entry.loadStatus !== 'LOADED') return { ok: false, error: `Dagster was still loading ${entry.name} when we stopped waiting` };
  const result = entry.locationOrLoadError;
  if (result?.__typename === 'RepositoryLocation') return { ok: true };
  // Dagster wraps the user code's exception ("DagsterUserCodeLoadError: Error occurred during the
  // loading…"); the chain below it holds what actually went wrong, so report every link.
  const chain = (result?.errorChain ?? []).map((link) => link.error.message.trim());
  const stack = result?.stack?.slice(-3).join('').trim();
  return {
    ok: false,
    unreachable: [result?.message ?? '', ...chain].some((m) => UNREACHABLE.test(m)),
    error: [result?.message?.trim() ?? 'Dagster could not load the location', ...chain.map((m) => `caused by: ${m}`), ...(stack ? [stack] : [])].join('\n'),
  };
}
