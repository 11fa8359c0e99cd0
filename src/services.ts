import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Llm } from './agent/llm.ts';
import type { Kv } from './adapters/kv/kv.ts';
import { MemoryKv } from './adapters/kv/memory-kv.ts';
import type { Db } from './adapters/store/db.ts';
import { StoreHealth } from './adapters/store/store-health.ts';
import { Metrics } from './observability/metrics.ts';
import { Readiness } from './observability/readiness.ts';
import type { AppDomain } from './app-domain.ts';
import { ApprovalRequests } from './auth/approval-requests.ts';
import { ApiKeys } from './auth/api-keys.ts';
import { KeyService, OperatorKeys } from './auth/key-service.ts';
import { Limits, type LimitSettings } from './auth/limits.ts';
import { AuditLog } from './auth/audit-log.ts';
import { ChatRepo } from './chat/chat-repo.ts';
import { ChatHistory } from './chat/chat-history.ts';
import { ChatService } from './chat/chat-service.ts';
import { TurnLog } from './chat/turn-log.ts';
import { CatalogRepo } from './catalog/catalog-repo.ts';
import { CatalogService } from './catalog/catalog-service.ts';
import { CompileService } from './compile/compile-service.ts';
import { CodeCompileService, type CodeCompileOptions } from './code-repos/code-compile-service.ts';
import { CodeRepoStore } from './code-repos/code-repo-store.ts';
import { DEFAULT_REPO_POLICY } from './code-repos/repo-policy.ts';
import type { GraphqlClientOptions } from './adapters/dagster/graphql-client.ts';
import { DagsterConnections } from './dagster/dagster-connections.ts';
import { DeployService } from './dagster/deploy-service.ts';
import { DbtManifests } from './dagster/dbt-manifests.ts';
import { withPackages, type PackageSource } from './dagster/repo-packages.ts';
import { DeployWorker } from './dagster/deploy-worker.ts';
import { DeploymentReconciler } from './dagster/deployment-reconciler.ts';
import { DeploymentRepo, type DeploymentRow } from './dagster/deployment-repo.ts';
import { TriggerService } from './dagster/trigger-service.ts';
import { SourceInspectionService, type SourceInspection } from './dagster/source-inspection.ts';
import { TriggerStateRepo } from './dagster/trigger-state-repo.ts';
import type { CompiledPipeline } from './compile/compile-pipeline.ts';
import { ShardCheckers } from './adapters/dagster/shard-check.ts';
import { DEFAULT_ENVIRONMENT, DEFAULT_PYTHON, type Environment } from './dagster/environments.ts';
import { EnvironmentService } from './dagster/environment-service.ts';
import { PipelineStatusService } from './dagster/pipeline-status.ts';
import { RunsService } from './dagster/runs-service.ts';
import { BackfillService } from './dagster/backfill-service.ts';
import { PipelineScopes } from './dagster/pipeline-scope.ts';
import { WorkspaceLocks } from './dagster/workspace-lock.ts';
import type { Domain } from './domain.ts';
import { NODE_RUNTIME, type Runtime } from './runtime.ts';
import { createLogger, type Logger } from './logger.ts';
import { BlockRepo } from './pipelines/block-repo.ts';
import { BlockService } from './pipelines/block-service.ts';
import { PipelineRepo } from './pipelines/pipeline-repo.ts';
import { PipelineService } from './pipelines/pipeline-service.ts';

/**
 * Everything the service is made of, for its entries (server, MCP stdio) and tests. Surfaces get
 * only `domain`, the narrow facade (see src/domain.ts).
 */
export interface Services {
  db: Db;
  catalogRepo: CatalogRepo;
  catalog: CatalogService;
  blockRepo: BlockRepo;
  blocks: BlockService;
  pipelines: PipelineService;
  compiler: CompileService;
  codeRepoStore: CodeRepoStore;
  codeRepos: CodeCompileService;
  connections: DagsterConnections;
  locks: WorkspaceLocks;
  deploymentRepo: DeploymentRepo;
  deployments: DeployService;
  worker: DeployWorker;
  reconciler: DeploymentReconciler;
  runs: RunsService;
  kv: Kv;
  approvals: ApprovalRequests;
  keys: ApiKeys;
  chatRepo: ChatRepo;
  turns: TurnLog;
  chat: ChatService;
  domain: AppDomain;
}

export interface ServiceOptions {
  environments: Map<string, Environment>;
  logger?: Logger;
  leaseSeconds?: number;
  deployWorkers?: number;
  /** How stale search may be about catalog writes made by other instances. */
  catalogFreshnessMs?: number;
  /** How often an idle deploy worker looks for work (it is also woken on each request). */
  pollMs?: number;
  /** How often written deployments are checked against their Dagster in the background; 0: only when a run needs a live version. */
  reconcileMs?: number;
  /** The chat's model endpoint; null: chat answers 503 (REST and MCP are unaffected). */
  llm?: Llm | null;
  kv?: Kv;
  chatStepLimit?: number;
  chatTurnTimeoutMs?: number;
  /** How long a chat turn holds its chat without its instance renewing the claim (an instance killed mid-turn). */
  chatTurnLeaseSeconds?: number;
  /** Fault injection for tests: rewrites what a deployment writes (e.g. a component that fails to load). */
  alterCompiled?: (compiled: CompiledPipeline, deployment: DeploymentRow) => CompiledPipeline;
  /** Fault injection for tests: deployments put in place without the load check, so that Dagster's own load fails after the swap. */
  uncheckedDeploy?: (deployment: DeploymentRow) => boolean;
  graphql?: GraphqlClientOptions;
  /** Rate limits and the chat's daily token budget (defaults: DEFAULT_LIMITS). */
  limits?: Partial<LimitSettings>;
  /** The clock the limits' windows and days are read from (tests set it). */
  now?: () => number;
  /** Where parsed dbt manifests are cached, by project content (see DbtManifests). */
  dbtManifestDir?: string;
  /** Where deploys get the code of code-repository packages (default: the store's, CodeRepoStore). */
  packageSource?: PackageSource;
  /** Compiling code repositories: what may be cloned (default: https only), and the Python check's environment and time limit. */
  codeRepos?: Partial<Pick<CodeCompileOptions, 'policy' | 'pythonEnv' | 'checkTimeoutMs' | 'clone'>>;
  /** Where this instance's events are counted (default: a registry of its own). */
  metrics?: Metrics;
  /** How long each readiness probe may take (default 2 s). */
  readinessTimeoutMs?: number;
  /** Source inspection in place of the Dagster job (evals: a write-only environment has no Dagster to run it in). */
  inspection?: SourceInspection;
  /** Where this runs (default: the Node server); on Workers, what needs a disk answers unavailable:runtime (src/runtime.ts). */
  runtime?: Runtime;
}

export function createServices(db: Db, opts: ServiceOptions): Services {
  const runtime = opts.runtime ?? NODE_RUNTIME;
  const catalogRepo = new CatalogRepo(db);
  const catalog = new CatalogService(catalogRepo, { ...(opts.catalogFreshnessMs !== undefined ? { freshnessMs: opts.catalogFreshnessMs } : {}) });
  const blockRepo = new BlockRepo(db);
  const pipelines = new PipelineService(new PipelineRepo(db), catalog);
  const compiler = new CompileService(pipelines, catalog);
  const codeRepoStore = new CodeRepoStore(db);
  // Repository blocks are checked with the Python that runs pipelines: the default environment's.
  const codeRepos = new CodeCompileService({
    store: codeRepoStore,
    catalog: catalogRepo,
    policy: DEFAULT_REPO_POLICY,
    python: opts.environments.get(DEFAULT_ENVIRONMENT)?.python ?? DEFAULT_PYTHON,
    logger: opts.logger ?? createLogger('silent'),
    runtime,
    ...opts.codeRepos,
  });
  const metrics = opts.metrics ?? new Metrics();
  const connections = new DagsterConnections(opts.environments, { ...opts.graphql, observe: (sample) => metrics.graphqlRequest(sample) });
  const deploymentRepo = new DeploymentRepo(db);
  const locks = new WorkspaceLocks(db);
  const triggerStates = new TriggerStateRepo(db);
  // Parsed where the pipeline runs: with the Python of the environment it deploys to.
  const dbtManifests = new DbtManifests({ cacheDir: opts.dbtManifestDir ?? join(tmpdir(), 'constellation-dbt-manifests') });
  const pythonOf = (d: DeploymentRow) => opts.environments.get(d.environment)?.python ?? DEFAULT_PYTHON;
  // A compiled version with what the deploy adds to it beside the component: dbt manifests, and its code-repository packages.
  const packages = opts.packageSource ?? codeRepoStore;
  const shipped = async <T extends CompiledPipeline>(compiled: T, d: DeploymentRow) => withPackages(await dbtManifests.withManifests(compiled, pythonOf(d)), packages);
  const reconciler = new DeploymentReconciler({ repo: deploymentRepo, connections, triggerStates, logger: opts.logger ?? createLogger('silent'), intervalMs: opts.reconcileMs ?? 5_000 });
  const worker = new DeployWorker({
    repo: deploymentRepo,
    connections,
    locks,
    reconciler,
    triggerStates,
    compile: async (d) => {
      const compiled = await shipped(await compiler.compile({ orgId: d.org_id, userId: d.requested_by }, d.pipeline_id, d.version), d);
      return opts.alterCompiled ? opts.alterCompiled(compiled, d) : compiled;
    },
    // Another pipeline of the shard, on the deployment's org (a shard holds one org's pipelines).
    recompile: async (pipelineId, version, d) => shipped(await compiler.compileDeployed({ orgId: d.org_id, userId: d.requested_by }, pipelineId, version), d),
    checkers: new ShardCheckers(),
    ...(opts.uncheckedDeploy ? { uncheckedDeploy: opts.uncheckedDeploy } : {}),
    onFinished: (status) => metrics.deploy(status),
    logger: opts.logger ?? createLogger('silent'),
    leaseSeconds: opts.leaseSeconds ?? 30,
    concurrency: opts.deployWorkers ?? 4,
    ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
  });
  const logger = opts.logger ?? createLogger('silent');
  const kv = opts.kv ?? new MemoryKv();
  const approvals = new ApprovalRequests(db);
  const keys = new ApiKeys(db);
  const chatRepo = new ChatRepo(db);
  const turns = new TurnLog(kv, { ...(opts.chatTurnLeaseSeconds ? { leaseSeconds: opts.chatTurnLeaseSeconds } : {}), streams: { opened: () => metrics.chatStreamOpened(), closed: () => metrics.chatStreamClosed() } });
  const blocks = new BlockService(blockRepo, catalog, pipelines);
  const limits = new Limits(kv, opts.limits, opts.now);
  const deployments = new DeployService({ repo: deploymentRepo, pipelines, compiler, connections, worker, locks, approvals, limits, runtime });
  const scopes = new PipelineScopes({ deployments: deploymentRepo, reconciler, pipelines, compiler, connections });
  const runs = new RunsService({ scopes, connections });
  const domain: Domain = {
    catalog,
    blocks,
    pipelines,
    compiler,
    codeRepos,
    deployments,
    runs,
    backfills: new BackfillService({ scopes }),
    environments: new EnvironmentService(connections),
    status: new PipelineStatusService({ pipelines, deployments: deploymentRepo, runs }),
    inspection: opts.inspection ?? new SourceInspectionService({ connections, catalog, locks, runtime }),
    triggers: new TriggerService({ states: triggerStates, deployments: deploymentRepo, reconciler, pipelines, compiler, connections }),
    limits,
    audit: new AuditLog(db, logger),
    metrics,
  };
  const chat = new ChatService({
    llm: opts.llm ?? null,
    domain,
    chats: chatRepo,
    turns,
    kv,
    approvals,
    log: logger,
    stepLimit: opts.chatStepLimit ?? 16,
    turnTimeoutMs: opts.chatTurnTimeoutMs ?? 600_000,
    metrics,
  });
  const health = new StoreHealth(db);
  const readiness = new Readiness({ store: health, kv, environments: [...opts.environments.values()].map((e) => ({ name: e.name, graphqlUrl: e.graphqlUrl })), logger, ...(opts.readinessTimeoutMs ? { timeoutMs: opts.readinessTimeoutMs } : {}) });
  return {
    db,
    catalogRepo,
    catalog,
    blockRepo,
    blocks,
    pipelines,
    compiler,
    codeRepoStore,
    codeRepos,
    connections,
    locks,
    deploymentRepo,
    deployments,
    worker,
    reconciler,
    runs,
    kv,
    approvals,
    keys,
    chatRepo,
    turns,
    chat,
    domain: { ...domain, chat, chats: new ChatHistory(chatRepo, turns), approvals, keys, keyAdmin: new KeyService(keys), operatorKeys: new OperatorKeys(keys, domain.audit), health, metrics, readiness },
  };
}
