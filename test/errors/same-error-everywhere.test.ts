import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { scriptedModel } from '../chat/helpers.ts';
import { freePort } from '../support/postgres-server.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { chatToolError, mcpClient, mcpToolError, restError } from '../support/surfaces.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// One failure, three surfaces: a Dagster that does not answer, and a Dagster that answers with its
// own PythonError (the body the real webserver sent for a launch missing a secret, replayed by a
// real HTTP server), read over REST, over MCP with the SDK's client, and in a chat turn whose
// scripted model calls the tool. Each must give the same code, message and hint.

const captured = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/dagster/launch-run-missing-env.json'), 'utf8')) as { status: number; body: unknown };
const SECRETS = ['SOURCE_DB_URL', 'WAREHOUSE_URL'];

describe('the same Dagster failure reads the same on REST, MCP and chat', () => {
  let t: TestApp;
  let llm: ScriptedLlm;
  let mcp: Awaited<ReturnType<typeof mcpClient>>;
  let replay: Server;
  let pipelineId: string;
  let refusingUrl: string;
  /** GraphQL requests sent, by the URL they went to. */
  const sent = new Map<string, number>();

  beforeAll(async () => {
    const closedPort = await freePort();
    const replayPort = await freePort();
    replay = createServer((req, res) => {
      req.resume().on('end', () => res.writeHead(captured.status, { 'content-type': 'application/json' }).end(JSON.stringify(captured.body)));
    });
    await new Promise<void>((r) => replay.listen(replayPort, '127.0.0.1', r));
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', {
      llm: scriptedModel(llm),
      environments: [
        writeOnlyEnvironment('down', { secrets: SECRETS, graphqlUrl: `http://127.0.0.1:${closedPort}/graphql` }),
        writeOnlyEnvironment('refusing', { secrets: SECRETS, graphqlUrl: (refusingUrl = `http://127.0.0.1:${replayPort}/graphql`) }),
      ],
      graphql: {
        attempts: 3,
        baseDelayMs: 5,
        maxDelayMs: 10,
        fetch: (input, init) => {
          sent.set(String(input), (sent.get(String(input)) ?? 0) + 1);
          return fetch(input, init);
        },
      },
    });
    mcp = await mcpClient(t);
    const created = await t.call('POST', '/v1/pipelines', flagshipSpec());
    pipelineId = created.body.id;
    // Live in both environments, in the org's first shard as a finished deploy leaves it (no
    // Dagster here could load it).
    const location = 'local_shard_1';
    for (const environment of ['down', 'refusing']) {
      await t.db.query(
        `INSERT INTO deployments (id, org_id, pipeline_id, version, environment, status, location_name, requested_by, finished_at)
         VALUES ($1, $2, $3, 1, $4, 'deployed', $5, $6, now())`,
        [randomUUID(), LOCAL_PRINCIPAL.orgId, pipelineId, environment, location, LOCAL_PRINCIPAL.userId],
      );
    }
  });
  afterAll(async () => {
    await mcp?.close();
    await t?.close();
    await llm?.close();
    await new Promise((r) => replay?.close(r));
  });

  const launchEverywhere = async (environment: string) => {
    const args = { pipeline_id: pipelineId, environment };
    const rest = await restError(t, 'POST', `/v1/pipelines/${pipelineId}/runs`, { environment });
    const overMcp = await mcpToolError(mcp.client, 'launch_run', args);
    const inChat = await chatToolError(t, llm, `launch-${environment}`, 'launch_run', args);
    return { rest, overMcp, inChat };
  };

  it('a Dagster that does not answer: 503 unavailable:dagster with its hint, everywhere', async () => {
    const { rest, overMcp, inChat } = await launchEverywhere('down');
    expect(rest).toMatchObject({ status: 503, code: 'unavailable:dagster', message: expect.stringMatching(/^No Dagster webserver answers at .*ECONNREFUSED after 1 try\)$/), hint: expect.stringContaining('npm run dagster') });
    const seen = { code: rest.code, message: rest.message, hint: rest.hint };
    expect({ code: overMcp.code, message: overMcp.message, hint: overMcp.hint }).toEqual(seen);
    expect({ code: inChat.code, message: inChat.message, hint: inChat.hint }).toEqual(seen);
    // The model reads the same text whether it came over MCP or in the chat.
    expect(inChat.text).toBe(overMcp.text);
  });

  it("Dagster's PythonError: its own message, trimmed, the same everywhere, and asked once per call", async () => {
    const before = sent.get(refusingUrl) ?? 0;
    const { rest, overMcp, inChat } = await launchEverywhere('refusing');
    expect(rest).toMatchObject({ status: 502, code: 'upstream:dagster' });
    expect(rest.message).toMatch(/^Dagster did not launch the run: DagsterInvalidConfigError: .*the environment variable "SOURCE_DB_URL" which is not set/);
    expect(rest.message).not.toMatch(/Stack Trace|File "|\.venv|No Dagster webserver/);
    const seen = { code: rest.code, message: rest.message, hint: rest.hint };
    expect({ code: overMcp.code, message: overMcp.message, hint: overMcp.hint }).toEqual(seen);
    expect({ code: inChat.code, message: inChat.message, hint: inChat.hint }).toEqual(seen);
    expect(inChat.text).toBe(overMcp.text);
    // Three launches, three requests: an answer is never retried as if Dagster were down.
    expect((sent.get(refusingUrl) ?? 0) - before).toBe(3);
  });
});

