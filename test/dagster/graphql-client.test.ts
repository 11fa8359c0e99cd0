import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DagsterGraphqlClient, DagsterGraphqlError, DagsterUnavailableError } from '../../src/adapters/dagster/graphql-client.ts';
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
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
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

  it('gives up on a webserver that is not there, saying where it looked', async () => {
    const port = await freePort();
    const client = new DagsterGraphqlClient(`http://127.0.0.1:${port}/graphql`, fast);
    const error = await client.request('{ version }').catch((e) => e);
    expect(error).toBeInstanceOf(DagsterUnavailableError);
    expect(error.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED after 4 tries`));
  });
});
