import type { AuditLog } from './auth/audit-log.ts';
import type { BackfillService } from './dagster/backfill-service.ts';
import type { CatalogService } from './catalog/catalog-service.ts';
import type { CompileService } from './compile/compile-service.ts';
import type { CodeCompileService } from './code-repos/code-compile-service.ts';
import type { DeployService } from './dagster/deploy-service.ts';
import type { EnvironmentService } from './dagster/environment-service.ts';
import type { PipelineStatusService } from './dagster/pipeline-status.ts';
import type { RunsService } from './dagster/runs-service.ts';
import type { TriggerService } from './dagster/trigger-service.ts';
import type { SourceInspection } from './dagster/source-inspection.ts';
import type { Limits } from './auth/limits.ts';
import type { ToolMetrics } from './observability/metrics.ts';
import type { BlockService } from './pipelines/block-service.ts';
import type { PipelineService } from './pipelines/pipeline-service.ts';

/**
 * What tools and routes may use: the domain services, whose methods hold the rules (environment
 * lookup, policies, the deploy diff, the status view), and nothing under them — no repository,
 * store, KV or deploy worker, so no surface can go around a rule. Tools import this type only
 * (never services.ts or the chat), which keeps tools → services → chat → agent → tools from
 * becoming a cycle again (test/architecture/imports.test.ts checks it).
 */
export interface Domain {
  catalog: CatalogService;
  blocks: BlockService;
  /** Deleting a pipeline is deployments.deletePipeline: it takes the pipeline out of Dagster first. */
  pipelines: Omit<PipelineService, 'delete'>;
  compiler: CompileService;
  /** Code repositories compiled into the org's block types (POST /dagster/compile/). */
  codeRepos: CodeCompileService;
  deployments: DeployService;
  runs: RunsService;
  /** Backfills of partitioned pipelines (a run per partition, by Dagster's daemon). */
  backfills: BackfillService;
  environments: EnvironmentService;
  status: PipelineStatusService;
  /** Pausing and resuming a pipeline's schedules and sensors. */
  triggers: TriggerService;
  /** Looking at a source's tables, columns and rows from inside an environment. */
  inspection: SourceInspection;
  /** Rate limits per user: the tool runner counts each call (see tools/run-tool.ts). */
  limits: Limits;
  /** Where every state-changing action is recorded (the tool runner writes a tool call's entry). */
  audit: AuditLog;
  /** Where the tool runner counts each call, for both surfaces at once (see tools/run-tool.ts). */
  metrics: ToolMetrics;
}
