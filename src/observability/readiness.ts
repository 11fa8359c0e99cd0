import { DagsterGraphqlClient } from '../adapters/dagster/graphql-client.ts';
import type { Kv } from '../adapters/kv/kv.ts';
import type { StoreHealth } from '../adapters/store/store-health.ts';
import { toAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** One part's state: `failed` carries the error's stable code (never an address or an upstream body). */
export type PartState = { status: 'ok' } | { status: 'failed'; code: string } | { status: 'not_applicable' };

export interface ReadinessReport {
  ready: boolean;
  /** Set once a shutdown began: not ready, whatever the parts say. */
  shutting_down: boolean;
  store: PartState;
  kv: PartState;
  /** Per environment; `not_applicable` where it has no GraphQL URL. */
  dagster: Record<string, PartState>;
}

export interface ReadinessDeps {
  store: StoreHealth;
  kv: Kv;
  environments: Array<{ name: string; graphqlUrl: string | null }>;
  logger: Logger;
  /** How long each part may take to answer (default 2 s). */
  timeoutMs?: number;
}

const VERSION = 'query Version { version }';
const PROBE_KEY = 'readiness:probe';

/**
 * Whether this instance should get traffic (GET /health/ready), apart from whether it is alive
 * (GET /health): the store answers a query, the KV a read, and each environment's Dagster its
 * version. A load balancer takes an instance out while any fails, and from the start of a shutdown.
 */
export class Readiness {
  private readonly deps: ReadinessDeps;
  private readonly timeoutMs: number;
  private readonly dagsters: Array<{ name: string; client: DagsterGraphqlClient | null }>;
  private shuttingDown = false;

  constructor(deps: ReadinessDeps) {
    this.deps = deps;
    this.timeoutMs = deps.timeoutMs ?? 2_000;
    // One try, a short wait: a probe asks again soon, and a slow answer is an answer of its own.
    this.dagsters = deps.environments.map((e) => ({ name: e.name, client: e.graphqlUrl ? new DagsterGraphqlClient(e.graphqlUrl, { attempts: 1, timeoutMs: this.timeoutMs }) : null }));
  }

  /** From now on not ready (a shutdown began). */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async check(): Promise<ReadinessReport> {
    const [store, kv, ...dagster] = await Promise.all([
      this.part('store', () => this.deps.store.check()),
      this.part('kv', () => this.deps.kv.get(PROBE_KEY)),
      ...this.dagsters.map(({ name, client }) => (client ? this.part(`dagster ${name}`, () => client.request(VERSION)) : Promise.resolve<PartState>({ status: 'not_applicable' }))),
    ]);
    const dagsters = Object.fromEntries(this.dagsters.map(({ name }, i) => [name, dagster[i]!]));
    const failed = [store, kv, ...dagster].some((p) => p!.status === 'failed');
    return { ready: !failed && !this.shuttingDown, shutting_down: this.shuttingDown, store: store!, kv: kv!, dagster: dagsters };
  }

  private async part(name: string, probe: () => Promise<unknown>): Promise<PartState> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new ProbeTimeout(name, this.timeoutMs)), this.timeoutMs)));
    try {
      await Promise.race([probe(), late]);
      return { status: 'ok' };
    } catch (error) {
      this.deps.logger.warn({ err: error, part: name }, 'readiness: a part does not answer');
      return { status: 'failed', code: error instanceof ProbeTimeout ? 'unavailable:timeout' : toAppError(error).code };
    } finally {
      clearTimeout(timer);
    }
  }
}

class ProbeTimeout extends Error {
  constructor(part: string, ms: number) {
    super(`${part} did not answer within ${ms} ms`);
  }
}
