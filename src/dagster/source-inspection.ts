import { z } from 'zod';
import { LAUNCH_RUN, RUN, RUN_OUTPUT_METADATA } from '../adapters/dagster/documents.ts';
import { dagsterRefusal } from '../adapters/dagster/dagster-errors.ts';
import type { DagsterGraphqlClient } from '../adapters/dagster/graphql-client.ts';
import type { Principal } from '../auth/principal.ts';
import { requireRole } from '../auth/roles.ts';
import type { CatalogService } from '../catalog/catalog-service.ts';
import { checkConfig } from '../catalog/config-validator.ts';
import { COLUMN_TYPES } from '../catalog/manifest-schema.ts';
import { AppError } from '../errors.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import type { DagsterConnections } from './dagster-connections.ts';
import { secretIssues } from './required-secrets.ts';
import { FINISHED, TAG } from './run-status.ts';
import { executionTags } from './pipeline-scope.ts';
import { loadedSystemLocation } from './system-location.ts';
import type { WorkspaceLocks } from './workspace-lock.ts';
import { NODE_RUNTIME, requireLocalRuntime, type Runtime } from '../runtime.ts';

/** The block library's inspection job and its op (blocks/python/constellation_blocks/inspect_source.py), in the system location. */
export const INSPECTION_JOB = 'constellation_inspect_source';
const INSPECTION_OP = 'inspect_source';
const RESULT_LABEL = 'inspection';
/** Tags an inspection run carries, so that Dagster's UI tells it from a pipeline's. */
export const INSPECTION_TAG = 'constellation/inspection';
export const MAX_SAMPLE_ROWS = 20;

/** What an inspection answers, on every surface. Sample values are the source's data; no secret is ever in it. */
export const inspectionView = z.object({
  ok: z.boolean().describe('The connection worked and the table was read; false: see error'),
  environment: z.string(),
  block_type: z.string().describe('The block type inspected, slug@version'),
  run_id: z.string().describe('The Dagster run that inspected the source, in the environment'),
  error: z.string().optional().describe('Why the inspection failed (connection refused, authentication failed, a missing table), without the secret'),
  tables: z.array(z.string()).optional().describe('Tables and views the connection sees, schema-qualified'),
  tables_truncated: z.boolean().optional().describe('More tables exist than were listed'),
  table: z.string().optional().describe('The table described below'),
  columns: z
    .array(
      z.object({
        name: z.string(),
        type: z.enum(COLUMN_TYPES).nullable().describe('Logical type as column contracts name it; null when none fits (an interval, bytes)'),
        source_type: z.string().describe("The column's type as the database names it"),
        nullable: z.boolean(),
      }),
    )
    .optional(),
  rows: z.array(z.array(z.unknown())).optional().describe('Sample rows, values in column order; long values are cut'),
});
export type InspectionView = z.infer<typeof inspectionView>;

/** What the job writes as its output metadata: the view without what the service adds. */
const jobAnswer = inspectionView.omit({ environment: true, run_id: true, block_type: true });

export interface InspectRequest {
  block_type: string;
  config: Record<string, unknown>;
  table?: string | undefined;
  sample_rows?: number | undefined;
  requestId?: string | undefined;
}

/** What the domain offers of source inspection: the service's method, which evals answer with a stand-in (evals/source-stand-in.ts). */
export type SourceInspection = Pick<SourceInspectionService, 'inspect'>;

/** runtime: the inspection job is written into the environment's workspace, so only the Node server runs it (default: it). */
type Deps = { connections: DagsterConnections; catalog: CatalogService; locks: WorkspaceLocks; timeoutMs?: number; pollMs?: number; runtime?: Runtime };

/**
 * Source inspection: launches the block library's inspection job in the environment's Dagster, in
 * its system code location (loaded first if Dagster has not yet: system-location.ts), with a source
 * block's config, waits for it (bounded) and reads its answer back over GraphQL. The job
 * reads the secret the config names from its own environment, where the pipelines run: this
 * service checks that the environment provides the name, and never sees the value.
 */
export class SourceInspectionService {
  private readonly deps: Deps;

  constructor(deps: Deps) {
    this.deps = deps;
  }

  async inspect(principal: Principal, environment: string, request: InspectRequest): Promise<InspectionView> {
    // It launches a run in the environment's Dagster, with the environment's credentials.
    requireRole(principal, 'run', 'Inspecting a source');
    requireLocalRuntime(this.deps.runtime ?? NODE_RUNTIME, 'Inspecting a source');
    const connection = this.deps.connections.require(environment, '/environment');
    const { env, client } = connection;
    const type = await this.deps.catalog.require(principal, request.block_type);
    if (type.category !== 'source') {
      throw new AppError('invalid:block_type', `${type.ref} is a ${type.category} block; only a source block can be inspected.`, {
        issues: [{ code: 'not_a_source', path: '/block_type', message: `${type.ref} is not a source`, hint: 'Inspect the source block that feeds it, e.g. postgres_incremental_extract.' }],
      });
    }
    const configIssues = checkConfig(type.config_schema, request.config, '/config');
    // One block's spec, so the secret rules are the ones a deploy applies (names allowed and set).
    const spec = { blocks: [{ id: 'source', type: type.ref, config: request.config }] } as unknown as PipelineSpec;
    const issues = [...configIssues, ...(configIssues.length ? [] : secretIssues(env, spec, new Map([['source', type]])))].map((issue) => ({
      ...issue,
      path: issue.path.replace(/^\/blocks\/0/, ''),
    }));
    if (issues.length) throw new AppError('invalid:config', `The ${type.ref} config cannot be inspected in "${env.name}": ${issues[0]!.message}.`, { issues });
    if (!client) throw new AppError('unavailable:dagster', `Environment "${env.name}" has no Dagster GraphQL URL, so nothing can run there.`, { hint: 'Set graphql_url for it in DAGSTER_ENVIRONMENTS.' });

    const location = await loadedSystemLocation(connection, this.deps.locks);
    const runConfig = {
      block_type: type.ref,
      config: request.config,
      sample_rows: Math.min(request.sample_rows ?? 5, MAX_SAMPLE_ROWS),
      ...(request.table ? { table: request.table } : {}),
    };
    const tags = { [INSPECTION_TAG]: type.ref, [TAG.environment]: env.name, ...(request.requestId ? { [TAG.requestId]: request.requestId } : {}) };
    const launched = await client.request(LAUNCH_RUN, {
      params: {
        selector: { repositoryLocationName: location, repositoryName: '__repository__', jobName: INSPECTION_JOB },
        runConfigData: { ops: { [INSPECTION_OP]: { config: runConfig } } },
        executionMetadata: { tags: executionTags(tags) },
      },
    });
    const result = launched.launchRun;
    if (result.__typename !== 'LaunchRunSuccess') throw dagsterRefusal(result, 'Dagster did not launch the inspection');
    const runId: string = result.run.runId;
    const status = await this.waitFor(client, runId);
    const answer = await this.answerOf(client, runId, status);
    return { ...answer, environment: env.name, block_type: type.ref, run_id: runId };
  }

  private async waitFor(client: DagsterGraphqlClient, runId: string): Promise<string> {
    const deadline = Date.now() + (this.deps.timeoutMs ?? 120_000);
    for (;;) {
      const run = (await client.request(RUN, { runId })).runOrError;
      if (run.__typename !== 'Run') throw dagsterRefusal(run, `Dagster lost the inspection run ${runId}`);
      if (FINISHED.has(run.status)) return run.status as string;
      if (Date.now() > deadline) {
        throw new AppError('unavailable:inspection', `The inspection run ${runId} did not finish in ${Math.round((this.deps.timeoutMs ?? 120_000) / 1000)} s (it is ${run.status}).`, {
          hint: "Check that the environment's Dagster daemon is running and its run queue is not full; the run's page in Dagster shows where it waits.",
        });
      }
      await new Promise((r) => setTimeout(r, this.deps.pollMs ?? 500));
    }
  }

  /** The job's answer from its output metadata; a failed run's own error when it never answered. */
  private async answerOf(client: DagsterGraphqlClient, runId: string, status: string): Promise<z.infer<typeof jobAnswer>> {
    const failures: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const logs: any = (await client.request(RUN_OUTPUT_METADATA, { runId, afterCursor: cursor })).logsForRun;
      if (logs.__typename !== 'EventConnection') throw dagsterRefusal(logs, `Dagster could not read the inspection run ${runId}`);
      for (const event of logs.events as Array<Record<string, any>>) {
        if (event.error?.message) failures.push(event.error.message);
        const entry = (event.metadataEntries as Array<{ label: string; jsonString?: string }> | undefined)?.find((m) => m.label === RESULT_LABEL);
        if (entry?.jsonString) return jobAnswer.parse(JSON.parse(entry.jsonString));
      }
      if (!logs.hasMore) break;
      cursor = logs.cursor;
    }
    // The op never raises (it answers ok: false instead), so this is Dagster failing to run it.
    throw new AppError('upstream:inspection', `The inspection run ${runId} ended ${status} without an answer${failures[0] ? `: ${failures[0].split('\n')[0]}` : ''}.`, {
      hint: "The run's page in Dagster shows why.",
    });
  }
}
