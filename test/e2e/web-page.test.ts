import { serve } from '@hono/node-server';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagship } from '../../evals/scenarios/flagship.ts';
import { createLlm } from '../../src/agent/llm.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { as, createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { startPlatform, type Platform } from './platform.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCREENSHOT = join(ROOT, '.test-results', 'web-page.png');
const TOOLS_IN_ORDER = ['search_block_types', 'get_block_type', 'get_block_type', 'validate_pipeline', 'propose_pipeline', 'compile_pipeline', 'deploy_pipeline'];

/** Polls `read` until `done` holds; fails naming `what` and the last value read. */
async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
    value = await read();
  }
  return value;
}

/** The app on a real loopback port, as a browser reaches it. */
async function listen(t: TestApp): Promise<{ base: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The conversation as the page shows it: each message's role, tool calls with their states, and text. */
const conversation = (page: Page) =>
  page.locator('[data-testid=message]').evaluateAll((messages) =>
    messages.map((m) => ({
      role: (m as HTMLElement).dataset.role,
      tools: Array.from(m.querySelectorAll<HTMLElement>('[data-testid=tool-call]')).map((t) => `${t.dataset.tool}:${t.dataset.state}`),
      text: Array.from(m.querySelectorAll('.message-text')).map((p) => p.textContent).join(''),
    })),
  );

/**
 * Records, in the page, every tool call state as it is first rendered and whether progress showed:
 * what "tool calls shown as they stream" means, observed rather than inferred from the end state.
 */
function recordToolStates() {
  const seen: string[] = [];
  (window as unknown as { toolStates: string[] }).toolStates = seen;
  new MutationObserver(() => {
    document.querySelectorAll<HTMLElement>('[data-testid=tool-call]').forEach((el, i) => {
      const entry = `${i}:${el.dataset.tool}:${el.dataset.state}${el.querySelector('[data-testid=progress]') ? ':progress' : ''}`;
      if (!seen.includes(entry)) seen.push(entry);
    });
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

/**
 * The page in a real Chromium against the real service on a real port: the scripted model builds
 * the flagship (seed 003) the way the flagship eval does, in an environment that asks a person
 * before a model deploys, on a real Dagster. One platform, one chat turn, one run: CI's budget.
 */
describe('the web page, in Chromium, builds and deploys the flagship by chat', () => {
  let platform: Platform;
  let llm: ScriptedLlm;
  let t: TestApp;
  let closeServer: () => Promise<void>;
  let off: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  const pageErrors: string[] = [];
  const failedRequests: string[] = [];

  beforeAll(async () => {
    // The page is built here (a no-op when web/ is unchanged since the last build) so that this
    // file alone tests the current sources: npm test builds it too, a single vitest run does not.
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-web.ts')], { cwd: ROOT, stdio: 'pipe' });
    // The slow parts start together: Dagster (the longest), the model, the browser. Each is kept
    // as it starts, and all are waited for, so that afterAll stops whatever did start.
    const started = await Promise.allSettled([
      startPlatform({ customers: 3, policy: { approval_required_for_model_deploys: true, allow_destructive: true } }).then((p) => (platform = p)),
      // A little delay per streamed piece, so a call's arguments visibly stream in the page.
      startScriptedLlm({ steps: flagship.policy(), tokenDelayMs: 2 }).then((l) => (llm = l)),
      chromium.launch({ executablePath: process.env.TEST_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] }).then((b) => (browser = b)),
      // A second service with no model endpoint, for the page without chat, and an environment
      // where an agent's deploy waits for a person.
      createTestApp('pglite', {
        llm: null,
        environments: [writeOnlyEnvironment('production', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'], policy: { approval_required_for_model_deploys: true, allow_destructive: true } })],
      }).then((a) => (off = a)),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    t = await createTestApp('postgres', {
      environments: [platform.environment],
      llm: createLlm({ apiKey: 'test', baseURL: llm.baseUrl, model: 'scripted', maxRetries: 0 }),
    });
    ({ base, close: closeServer } = await listen(t));
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    // A script the page's policy refused, or one that threw, shows up here.
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Chromium logs every 4xx as a console error; those are checked by URL below instead.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400) failedRequests.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    await page.addInitScript(recordToolStates);
  });
  afterAll(async () => {
    await browser?.close();
    await closeServer?.();
    await t?.close();
    await off?.close();
    await llm?.close();
    await platform?.stop();
  });

  it('streams the tool calls, draws the graph, deploys on Approve, and keeps the chat over a reload', async () => {
    await page.goto(`${base}/`);
    await page.getByTestId('chat-input').fill(flagship.messages[0]!);
    await page.getByTestId('send').click();

    const deploy = page.locator('[data-testid=tool-call][data-tool=deploy_pipeline]');
    await deploy.and(page.locator('[data-state=approval-requested]')).waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-testid=tool-call]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.tool))).toEqual(TOOLS_IN_ORDER);

    // The two-block graph: nodes labelled with their block types, one edge between them.
    const graph = page.getByTestId('pipeline-graph');
    const nodes = await eventually('two graph nodes', () => graph.getByTestId('graph-node').allTextContents(), (n) => n.length === 2);
    expect(nodes.join(' ')).toContain('postgres_incremental_extract@1');
    expect(nodes.join(' ')).toContain('clickhouse_replacing_merge_tree_load@1');
    await eventually('one graph edge', () => graph.locator('.react-flow__edge').count(), (n) => n === 1);

    // The preview beside the buttons names the environment and what would be written.
    const preview = deploy.getByTestId('deploy-preview');
    expect(await preview.textContent()).toContain('development');
    expect(await preview.textContent()).toMatch(/Version1 \(first deploy there\)/);
    await deploy.getByTestId('approve').click();

    await deploy.and(page.locator('[data-state=output-available]')).waitFor({ timeout: 180_000 });
    expect(await deploy.getByTestId('tool-summary').textContent(), platform.dagster.logs()).toBe('status: deployed (development)');
    await page.getByText('it is deployed and Dagster has loaded it').waitFor();
    await page.locator('[data-testid=chat][data-status=ready]').waitFor();
    mkdirSync(join(ROOT, '.test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Seen as they streamed: each call appeared in order, arguments while being written, the
    // deploy waiting for approval, then running with progress, then done.
    const states = await page.evaluate(() => (window as unknown as { toolStates: string[] }).toolStates);
    const firstSeen = [...new Map(states.map((s) => [s.split(':')[0], s.split(':')[1]])).values()];
    expect(firstSeen).toEqual(TOOLS_IN_ORDER);
    expect(states.some((s) => /:(validate|propose)_pipeline:input-streaming/.test(s))).toBe(true);
    const deployStates = states.filter((s) => s.startsWith('6:')).map((s) => s.slice(2));
    expect(deployStates[0]).toMatch(/^deploy_pipeline:input-/);
    expect(deployStates).toContain('deploy_pipeline:approval-requested');
    expect(deployStates.some((s) => s.endsWith(':progress'))).toBe(true);
    expect(deployStates.at(-1)).toMatch(/^deploy_pipeline:output-available/);

    const before = await conversation(page);
    expect(before.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(before[1]!.tools).toEqual(TOOLS_IN_ORDER.map((name) => `${name}:output-available`));

    await page.reload();
    await eventually('the stored chat after a reload', () => conversation(page), (c) => c.length === before.length);
    expect(await conversation(page)).toEqual(before);
    await eventually('the graph after a reload', () => graph.getByTestId('graph-node').count(), (n) => n === 2);
    expect(pageErrors).toEqual([]);
    // The only refusals: the stored messages of a chat never posted to (how the page learns that
    // a chat is new), and the browser's own favicon request.
    expect(failedRequests.filter((r) => !/^404 (\/v1\/chats\/web-[0-9a-f-]+|\/favicon\.ico)$/.test(r))).toEqual([]);
  });

  // The side view (web/side) is another engineer's; these are the hooks it renders.
  it('shows the deployment as deployed and a run launched from the side view as completed', async () => {
    const status = page.getByTestId('deployment-status');
    await eventually('the deployment status in the side view', async () => ((await status.count()) ? await status.first().textContent() : null), (s) => !!s && /deployed/.test(s), 30_000);
    await page.getByTestId('run-now').first().click();
    const run = page.getByTestId('run-row').first();
    await run.waitFor({ timeout: 60_000 });
    const finished = await eventually('the run to finish', () => run.getAttribute('data-status'), (s) => !!s && /^(completed|success|failed|failure|canceled)$/i.test(s), 180_000);
    expect(finished, platform.dagster.logs()).toMatch(/^(completed|success)$/i);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('stops a running turn with Stop: the model request is aborted on the server, not only the stream', async () => {
    // A new browser context: its own localStorage, so a new chat.
    const stopPage = await browser.newPage();
    try {
      llm.script([{ hang: true, text: 'Thinking about it' }]);
      const abortedBefore = llm.aborted;
      await stopPage.goto(`${base}/`);
      await stopPage.getByTestId('chat-input').fill('take your time');
      await stopPage.getByTestId('send').click();
      await stopPage.getByText('Thinking about it').waitFor({ timeout: 30_000 });
      await stopPage.getByTestId('stop').click();
      await stopPage.locator('[data-testid=chat][data-status=ready]').waitFor({ timeout: 15_000 });
      await eventually('the model request to be aborted', async () => llm.aborted, (n) => n > abortedBefore, 15_000);
      const chatId = await stopPage.evaluate(() => localStorage.getItem('constellation.chatId'));
      await eventually('the turn to end on the server', async () => (await t.app.request(`/v1/chat/${chatId}/stream`)).status, (status) => status === 204, 15_000);
    } finally {
      await stopPage.close();
    }
  });

  it('without a model endpoint, says chat is off and which variables turn it on, and still draws', async () => {
    const served = await listen(off);
    const offPage = await browser.newPage();
    try {
      await offPage.goto(`${served.base}/`);
      const notice = await offPage.getByTestId('chat-off').textContent({ timeout: 30_000 });
      expect(notice).toContain('OPENAI_API_KEY');
      expect(notice).toContain('OPENAI_BASE_URL');
      expect(await offPage.getByTestId('chat-input').count()).toBe(0);
      await offPage.getByTestId('pipeline-graph').waitFor();
    } finally {
      await offPage.close();
      await served.close();
    }
  });

  it("lists an agent's deploy waiting for a person, and the person's Approve lets the agent's retry through", async () => {
    const agent = await off.issueKey({ org: 'acme', user: 'claude', role: 'deployer', kind: 'agent' });
    const person = await off.issueKey({ org: 'acme', user: 'ada', role: 'deployer' });
    const created = await off.call('POST', '/v1/pipelines', flagshipSpec(), as(agent.key));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const deploy = () => off.call('POST', `/v1/pipelines/${created.body.id}/deployments`, { environment: 'production' }, as(agent.key));
    expect((await deploy()).body.error?.code).toBe('forbidden:approval_required');

    const served = await listen(off);
    const personPage = await browser.newPage();
    try {
      // The tab's key, where the page's key prompt keeps it.
      await personPage.addInitScript((key) => sessionStorage.setItem('constellation.apiKey', key), person.key);
      await personPage.goto(`${served.base}/`);
      const row = personPage.getByTestId('pending-approval');
      await row.waitFor({ timeout: 30_000 });
      expect(await row.count()).toBe(1);
      expect(await row.textContent()).toContain('production');
      await row.getByTestId('approve').click();
      await eventually('the answered request to leave the list', () => row.count(), (n) => n === 0, 15_000);
    } finally {
      await personPage.close();
      await served.close();
    }
    expect((await deploy()).status).toBe(202);
  });

  it('loads the API reference at /docs', async () => {
    const response = await page.goto(`${base}/docs`);
    expect(response?.status(), 'GET /docs is not served (the API reference page, issue 16 item 2)').toBe(200);
    // The reference renders the document's own title from /openapi.json.
    await page.getByText('Constellation Agent').first().waitFor({ timeout: 30_000 });
  });
});
