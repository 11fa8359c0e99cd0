import type { GraphqlSample } from '../../observability/metrics.ts';
import { dagsterMessage, DagsterGraphqlError, DagsterUnavailableError } from './dagster-errors.ts';

export { DagsterGraphqlError, DagsterUnavailableError } from './dagster-errors.ts';

type GraphqlBody<T> = { data?: T | null; errors?: Array<{ message: string }> };

export interface GraphqlClientOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Told each request's duration (retries included) and outcome: the Dagster latency metric. */
  observe?: (sample: GraphqlSample) => void;
}

/**
 * Talks to a Dagster webserver's GraphQL endpoint. Transient failures — a 5xx without a GraphQL
 * answer (a proxy in front of a webserver that is restarting), a connection reset mid-request, a
 * timeout — are retried with exponential backoff; an answer is never retried, a PythonError answer
 * included: it is Dagster telling us what is wrong. The webserver answers HTTP 500 whenever a
 * resolver caught an exception (a run launch whose resource config names an unset environment
 * variable, for one), with the PythonError in the body: that is an answer too.
 *
 * A refused connection is not retried: nothing listens on that port, and a webserver that is not
 * running does not start within one request's backoff (it takes tens of seconds when it does).
 * Retrying only made a deploy before `npm run dagster` wait ~8 s per request to say `written`.
 * Nothing needs those retries: a reload is one request to a webserver that stays up meanwhile
 * (Dagster reloads a location in-process); status and run polling ask again anyway; and a
 * `written` deployment becomes `deployed` once its Dagster loads it (DeploymentReconciler).
 */
export class DagsterGraphqlClient {
  readonly url: string;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly observe: ((sample: GraphqlSample) => void) | undefined;

  constructor(url: string, opts: GraphqlClientOptions = {}) {
    this.url = url;
    this.attempts = opts.attempts ?? 6;
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 4_000;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.fetchImpl = opts.fetch ?? fetch;
    this.observe = opts.observe;
  }

  /** The UI's base address (the GraphQL URL without /graphql), for links to runs. */
  get uiUrl(): string {
    return this.url.replace(/\/graphql\/?$/, '');
  }

  async request<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    if (!this.observe) return this.send<T>(query, variables);
    const started = performance.now();
    let outcome: GraphqlSample['outcome'] = 'error';
    try {
      const data = await this.send<T>(query, variables);
      outcome = 'ok';
      return data;
    } finally {
      this.observe({ operation: operationName(query), seconds: (performance.now() - started) / 1000, outcome });
    }
  }

  private async send<T>(query: string, variables: Record<string, unknown>): Promise<T> {
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
        if (lastProblem === 'ECONNREFUSED') throw new DagsterUnavailableError(this.url, lastProblem, attempt + 1);
        continue;
      }
      const body = graphqlBody<T>(await res.text().catch(() => ''));
      if (res.status >= 500 && !body) {
        lastProblem = `HTTP ${res.status}`;
        continue;
      }
      if (!body) throw new DagsterGraphqlError(`Dagster answered HTTP ${res.status} without JSON`);
      if (body.errors?.length) throw new DagsterGraphqlError(`Dagster answered with an error: ${dagsterMessage(body.errors.map((e) => e.message).join('; '))}`);
      if (body.data === undefined || body.data === null) throw new DagsterGraphqlError(`Dagster answered HTTP ${res.status} without data`);
      return body.data;
    }
    throw new DagsterUnavailableError(this.url, lastProblem, this.attempts);
  }
}

/** The document's operation name (our documents all name theirs), a label of few values. */
function operationName(query: string): string {
  return /^\s*(?:query|mutation)\s+([A-Za-z_]\w*)/.exec(query)?.[1] ?? 'anonymous';
}

/** The body as a GraphQL answer (an object with data or errors), or null when it is not one. */
function graphqlBody<T>(text: string): GraphqlBody<T> | null {
  try {
    const body = JSON.parse(text) as unknown;
    return body && typeof body === 'object' && ('data' in body || 'errors' in body) ? (body as GraphqlBody<T>) : null;
  } catch {
    return null;
  }
}

function describeNetworkError(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string; errors?: Array<{ code?: string }> }; message?: string };
  if (e.name === 'TimeoutError') return 'timed out';
  // A host name with several addresses (localhost: ::1 and 127.0.0.1) fails with one error per address.
  const codes = new Set(e.cause?.errors?.map((inner) => inner.code));
  if (codes.size === 1) return [...codes][0] ?? 'network error';
  return e.cause?.code ?? e.message ?? 'network error';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
