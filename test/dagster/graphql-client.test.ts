import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dagsterMessage } from '../../src/adapters/dagster/dagster-errors.ts';
import { DagsterGraphqlClient, DagsterGraphqlError, DagsterUnavailableError } from '../../src/adapters/dagster/graphql-client.ts';
import { AppError } from '../../src/errors.ts';
import { freePort } from '../support/postgres-server.ts';

// A real HTTP server answering as a restarting Dagster would; the client's behaviour against the
// real webserver is covered by the end-to-end tests.
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serve(answers: Array<{ status: number; body: unknown }>) {
  const requests: unknown[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push(JSON.parse(body));
      const answer = answers[Math.min(requests.length - 1, answers.length - 1)]!;
      res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json' }).end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/graphql`, requests };
}

const fast = { baseDelayMs: 5, maxDelayMs: 20, attempts: 4 };

describe('Dagster GraphQL client', () => {
  it('retries a 5xx and returns the answer that follows', async () => {
    const { url, requests } = await serve([
      { status: 503, body: {} },
      { status: 502, body: {} },
      { status: 200, body: { data: { version: '1.13.27' } } },
    ]);
    expect(await new DagsterGraphqlClient(url, fast).request('{ version }')).toEqual({ version: '1.13.27' });
    expect(requests).toHaveLength(3);
  });

  it('never retries a PythonError answer: it is returned as Dagster said it', async () => {
    const pythonError = { data: { reloadWorkspace: { __typename: 'PythonError', message: 'ImportError: boom' } } };
    const { url, requests } = await serve([{ status: 200, body: pythonError }]);
    expect(await new DagsterGraphqlClient(url, fast).request('mutation { reloadWorkspace { __typename } }')).toEqual(pythonError.data);
    expect(requests).toHaveLength(1);
  });

  it('does not retry a query Dagster rejects', async () => {
    const { url, requests } = await serve([{ status: 400, body: { errors: [{ message: 'Cannot query field "colour"' }] } }]);
    await expect(new DagsterGraphqlClient(url, fast).request('{ colour }')).rejects.toThrow(DagsterGraphqlError);
    expect(requests).toHaveLength(1);
  });

  it('gives up at once on a webserver that is not there (connection refused), saying where it looked', async () => {
    const port = await freePort();
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const client = new DagsterGraphqlClient(`http://127.0.0.1:${port}/graphql`, { ...fast, fetch: counting });
    const error = await client.request('{ version }').catch((e) => e);
    expect(error).toBeInstanceOf(DagsterUnavailableError);
    expect(error.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED after 1 try\\)`));
    expect(attempts).toBe(1);
  });

  it('retries a connection the webserver resets mid-request (one restarting), and returns the answer that follows', async () => {
    let resets = 0;
    const { url } = await serve([{ status: 200, body: { data: { version: '1.13.27' } } }]);
    server!.prependListener('request', (req) => {
      if (resets++ === 0) req.socket.destroy();
    });
    expect(await new DagsterGraphqlClient(url, fast).request('{ version }')).toEqual({ version: '1.13.27' });
    // The first request's connection was reset; the second was answered.
    expect(resets).toBe(2);
  });
});

// What the real webserver answered to a run launch whose resources read an unset environment
// variable: HTTP 500, with the PythonError in a GraphQL body (see the fixture's note).
const captured = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/dagster/launch-run-missing-env.json'), 'utf8')) as { status: number; body: any };

describe('Dagster GraphQL client, when Dagster answers with an error', () => {
  it('returns a PythonError that comes with HTTP 500 at once, as an answer: no retry', async () => {
    const { url, requests } = await serve([{ status: captured.status, body: captured.body }, { status: 200, body: { data: { launchRun: { __typename: 'LaunchRunSuccess' } } } }]);
    const data = await new DagsterGraphqlClient(url, fast).request('mutation { launchRun { __typename } }');
    expect(data.launchRun.__typename).toBe('PythonError');
    expect(requests).toHaveLength(1);
  });

  it('turns a 500 carrying GraphQL errors into an upstream:dagster error with their message, trimmed, without retrying', async () => {
    const message = `${captured.body.data.launchRun.message}`;
    const { url, requests } = await serve([{ status: 500, body: { data: null, errors: [{ message, locations: [], path: ['launchRun'] }] } }]);
    const error = await new DagsterGraphqlClient(url, fast).request('mutation { launchRun { __typename } }').catch((e) => e);
    expect(error).toBeInstanceOf(DagsterGraphqlError);
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('upstream:dagster');
    expect(error.message).toContain('You have attempted to fetch the environment variable "SOURCE_DB_URL" which is not set.');
    expect(error.message).not.toMatch(/Stack Trace|File "|\.venv|\n/);
    expect(requests).toHaveLength(1);
  });

  it('still retries a 5xx that is not a GraphQL answer (a proxy in front of a restarting webserver)', async () => {
    const { url, requests } = await serve([{ status: 502, body: 'Bad Gateway' }, { status: 200, body: { data: { version: '1.13.27' } } }]);
    expect(await new DagsterGraphqlClient(url, fast).request('{ version }')).toEqual({ version: '1.13.27' });
    expect(requests).toHaveLength(2);
  });

  it('gives an outage its code and hint where it happens', async () => {
    const port = await freePort();
    const error = await new DagsterGraphqlClient(`http://127.0.0.1:${port}/graphql`, fast).request('{ version }').catch((e) => e);
    expect(error).toMatchObject({ code: 'unavailable:dagster', hint: expect.stringContaining('npm run dagster') });
  });
});

describe('dagsterMessage', () => {
  it("keeps Dagster's words and drops the stack traces it inlines, module paths and line breaks", () => {
    const text = dagsterMessage(captured.body.data.launchRun.message);
    expect(text).toBe(
      'DagsterInvalidConfigError: Error in config for job all_blocks ' +
        "Error 1: Post processing at path root:resources:extract_customers_postgres:config:url of original value {'env': 'SOURCE_DB_URL'} failed: " +
        'PostProcessingError: You have attempted to fetch the environment variable "SOURCE_DB_URL" which is not set. In order for this execution to succeed it must be set in this environment. ' +
        "Error 2: Post processing at path root:resources:load_customers_clickhouse:config:url of original value {'env': 'WAREHOUSE_URL'} failed: " +
        'PostProcessingError: You have attempted to fetch the environment variable "WAREHOUSE_URL" which is not set. In order for this execution to succeed it must be set in this environment.',
    );
  });

  it('bounds a long message', () => {
    expect(dagsterMessage('x'.repeat(5000)).length).toBeLessThanOrEqual(1501);
  });
});
