import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import type { Llm } from '../src/agent/llm.ts';
import type { Db } from '../src/adapters/store/db.ts';
import { openDb } from '../src/adapters/store/open-db.ts';
import { createApp } from '../src/app.ts';
import { ensureLocalPrincipal, type Principal } from '../src/auth/principal.ts';
import { loadManifests } from '../src/catalog/load-manifests.ts';
import type { DeploymentRow } from '../src/dagster/deployment-repo.ts';
import type { SourceInspection } from '../src/dagster/source-inspection.ts';
import { DEFAULT_PYTHON, type Environment } from '../src/dagster/environments.ts';
import { createLogger } from '../src/logger.ts';
import type { PipelineSpec } from '../src/pipelines/spec-schema.ts';
import { createServices, type Services } from '../src/services.ts';
import { flagshipSpec } from '../test/compile/fixtures.ts';

/** The secret names the eval environment has: the ones the scenarios ask for and the blocks' defaults. */
export const EVAL_SECRETS = ['SOURCE_DB_URL', 'WAREHOUSE_URL', 'POSTGRES_URL', 'CLICKHOUSE_URL'];
export const ENVIRONMENT = 'development';

export type { Llm };

/**
 * The whole service over a fresh in-memory PGlite store and one write-only environment (no
 * Dagster). With no Dagster, inspect_source can only answer through `inspection`, a stand-in
 * (evals/source-stand-in.ts); without one it says the environment has no Dagster, as it would.
 */
export interface Harness {
  services: Services;
  app: ReturnType<typeof createApp>;
  principal: Principal;
  environment: Environment;
  db: Db;
  close(): Promise<void>;
}

const manifests = loadManifests();

export async function startHarness(llm: Llm | null, opts: { stepLimit?: number; inspection?: SourceInspection } = {}): Promise<Harness> {
  const db = await openDb({});
  const environment: Environment = {
    name: ENVIRONMENT,
    workspaceDir: mkdtempSync(join(tmpdir(), 'constellation-evals-ws-')),
    graphqlUrl: null,
    secrets: EVAL_SECRETS,
    python: DEFAULT_PYTHON,
    policy: { approval_required_for_model_deploys: false, allow_destructive: true },
  };
  const logger = createLogger('silent');
  const services = createServices(db, {
    environments: new Map([[environment.name, environment]]),
    logger,
    leaseSeconds: 30,
    pollMs: 100,
    llm,
    ...(opts.stepLimit ? { chatStepLimit: opts.stepLimit } : {}),
    ...(opts.inspection ? { inspection: opts.inspection } : {}),
  });
  const principal = await ensureLocalPrincipal(db);
  await services.catalogRepo.upsert(manifests);
  const app = createApp({ domain: services.domain, logger, maxBodyBytes: 1024 * 1024, principal });
  services.worker.start();
  return {
    services,
    app,
    principal,
    environment,
    db,
    async close() {
      await services.worker.stop();
      await db.close();
      rmSync(environment.workspaceDir, { recursive: true, force: true });
    },
  };
}

export interface TurnResult {
  /** The assistant message as the AI SDK client assembled it. */
  message: UIMessage | undefined;
  /** Every chunk the stream carried, transient ones included. */
  chunks: UIMessageChunk[];
  /** The stream's error text, when the turn failed. */
  error: string | null;
}

/** One user message through POST /v1/chat, read with the AI SDK's own client. */
export async function sendMessage(app: Harness['app'], chatId: string, messages: UIMessage[]): Promise<TurnResult> {
  const transport = new DefaultChatTransport<UIMessage>({ api: 'http://localhost/v1/chat', fetch: async (url, init) => app.request(String(url), init as RequestInit) });
  const stream = await transport.sendMessages({ chatId, messages, trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
  const [forClient, forLog] = stream.tee();
  const chunks: UIMessageChunk[] = [];
  const logging = (async () => {
    for await (const chunk of forLog as unknown as AsyncIterable<UIMessageChunk>) chunks.push(chunk);
  })();
  let message: UIMessage | undefined;
  let error: string | null = null;
  try {
    for await (const m of readUIMessageStream({ stream: forClient, onError: (e) => void (error = String((e as Error)?.message ?? e)) })) message = m;
  } catch (e) {
    error = String((e as Error)?.message ?? e);
  }
  await logging;
  const failed = chunks.find((c) => c.type === 'error') as { errorText?: string } | undefined;
  return { message, chunks, error: failed?.errorText ?? error };
}

export const textOf = (message: UIMessage | undefined) => (message?.parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');

export const userMessage = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });

/** Waits until the deployment settles (written, deployed or failed). */
export async function settled(h: Pick<Harness, 'services' | 'principal'>, id: string, ms = 60_000): Promise<DeploymentRow> {
  const deadline = Date.now() + ms;
  for (;;) {
    const row = await h.services.deploymentRepo.get(h.principal, id);
    if (row && !['pending', 'in_progress'].includes(row.status)) return row;
    if (Date.now() > deadline) throw new Error(`deployment ${id} did not settle in ${ms} ms (status ${row?.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Setup helper: stores a pipeline. */
export async function createPipeline(h: Harness, spec: PipelineSpec): Promise<string> {
  return (await h.services.pipelines.create(h.principal, spec)).pipeline.id;
}

/** Setup helper: deploys a version (the current one by default) and waits until it settles. */
/** The setup several scenarios start from: the flagship pipeline, saved and deployed once. */
export async function deployedFlagship(h: Harness): Promise<{ pipelineId: string; version: number; deployments: number }> {
  const pipelineId = await createPipeline(h, flagshipSpec());
  await deploy(h, pipelineId);
  return { pipelineId, version: 1, deployments: 1 };
}

export async function deploy(h: Harness, pipelineId: string, version?: number): Promise<DeploymentRow> {
  const row = await h.services.deployments.request(h.principal, pipelineId, { environment: ENVIRONMENT, ...(version ? { version } : {}) }, { surface: 'cli' });
  return settled(h, row.id);
}
