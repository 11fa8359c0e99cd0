/**
 * Talks to a Dagster webserver's GraphQL endpoint. Transient failures — the webserver restarting
 * (connection refused), a 5xx, a timeout — are retried with exponential backoff; an answer is
 * never retried, a PythonError answer included: it is Dagster telling us what is wrong.
 */
export class DagsterUnavailableError extends Error {
  override name = 'DagsterUnavailableError';
}

export class DagsterGraphqlError extends Error {
  override name = 'DagsterGraphqlError';
}

export interface GraphqlClientOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class DagsterGraphqlClient {
  readonly url: string;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(url: string, opts: GraphqlClientOptions = {}) {
    this.url = url;
    this.attempts = opts.attempts ?? 6;
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 4_000;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /** The UI's base address (the GraphQL URL without /graphql), for links to runs. */
  get uiUrl(): string {
    return this.url.replace(/\/graphql\/?$/, '');
  }

  async request<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let lastProblem = '';
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      if (attempt > 0) await sleep(Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)));
      let res: Response;
      try {
        res = await this.fetchImpl(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        lastProblem = describeNetworkError(error);
        continue;
      }
      if (res.status >= 500) {
        lastProblem = `HTTP ${res.status}`;
        await res.body?.cancel();
        continue;
      }
      const body = (await res.json().catch(() => null)) as { data?: T; errors?: Array<{ message: string }> } | null;
      if (!body) throw new DagsterGraphqlError(`Dagster answered HTTP ${res.status} without JSON`);
      if (body.errors?.length) throw new DagsterGraphqlError(`Dagster rejected the query: ${body.errors.map((e) => e.message).join('; ')}`);
      if (body.data === undefined) throw new DagsterGraphqlError(`Dagster answered HTTP ${res.status} without data`);
      return body.data;
    }
    throw new DagsterUnavailableError(`No Dagster webserver answers at ${this.url} (${lastProblem} after ${this.attempts} tries)`);
  }
}

function describeNetworkError(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string }; message?: string };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.message ?? 'network error';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
