import type { Category, PortType } from '../../src/catalog/manifest-schema.ts';
import type { ScriptStep } from '../../test/support/scripted-llm.ts';
import { ENVIRONMENT } from '../harness.ts';
import { call, proposeValidated, react, resultOf, resultsOf, searchedRef } from '../policy.ts';

/** What get_block_type returns, as far as a policy reads it. */
export interface BlockTypeCard {
  ref: string;
  category: Category;
  config_schema: { properties?: Record<string, unknown>; required?: string[] };
  inputs: Array<{ name: string; type: PortType }>;
  outputs: Array<{ name: string; type: PortType }>;
}

export interface BuildPlan {
  /** What to search the catalog for (one search that should find both blocks). */
  search: string;
  /** Slugs of the source and the sink to take from the results. */
  source: string;
  sink: string;
  /** The blocks' configs (checked against the config schemas read before writing them). */
  sourceConfig: Record<string, unknown>;
  sinkConfig: Record<string, unknown>;
  name: string;
  description: string;
  /** Block ids, lower snake_case. */
  ids: { source: string; sink: string };
  schedule: { id: string; cron: string };
  /** How the answer describes the pipeline, e.g. "customers from Postgres into ClickHouse every 6 hours". */
  summary: string;
}

/**
 * The steps a good model takes to build and ship a source → sink pipeline, each decided from what
 * the previous tool answered: search the catalog, read both block types, write a spec from what
 * they say (refs, port names, config fields), validate it, save it, compile it, deploy it (and
 * wait), then tell the user how it went. `alter` changes the spec before it is validated (for
 * tests of the graders with a model that gets something wrong).
 */
export function buildAndDeploy(plan: BuildPlan, alter: (spec: Record<string, any>) => Record<string, any> = (s) => s): () => ScriptStep[] {
  return () => [
    call('search_block_types', { query: plan.search, limit: 5 }),
    react((req) => call('get_block_type', { ref: searchedRef(req, plan.source) })),
    react((req) => call('get_block_type', { ref: searchedRef(req, plan.sink) })),
    react((req) => {
      const read = resultsOf<{ block_type: BlockTypeCard }>(req, 'get_block_type').map((r) => r.block_type);
      const source = read.find((b) => b.ref.startsWith(`${plan.source}@`));
      const sink = read.find((b) => b.ref.startsWith(`${plan.sink}@`));
      if (!source || !sink) throw new Error('policy: the block types were not read');
      for (const [type, config] of [[source, plan.sourceConfig], [sink, plan.sinkConfig]] as const) {
        const fields = Object.keys(type.config_schema.properties ?? {});
        const unknown = Object.keys(config).filter((k) => !fields.includes(k));
        if (unknown.length) throw new Error(`policy: ${type.ref} has no config field ${unknown.join(', ')}`);
      }
      const output = source.outputs.find((p) => sink.inputs.some((i) => i.type === p.type));
      const input = sink.inputs.find((i) => i.type === output?.type);
      if (!output || !input) throw new Error(`policy: no matching ports between ${source.ref} and ${sink.ref}`);
      const spec = {
        name: plan.name,
        description: plan.description,
        blocks: [
          { id: plan.ids.source, type: source.ref, config: plan.sourceConfig },
          { id: plan.ids.sink, type: sink.ref, config: plan.sinkConfig },
        ],
        edges: [{ from: { block: plan.ids.source, port: output.name }, to: { block: plan.ids.sink, port: input.name } }],
        schedules: [{ id: plan.schedule.id, cron: plan.schedule.cron, timezone: 'UTC' }],
      };
      return call('validate_pipeline', { spec: alter(spec) });
    }),
    proposeValidated(),
    react((req) => call('compile_pipeline', { pipeline_id: resultOf(req, 'propose_pipeline').pipeline_id })),
    react((req) => {
      const compiled = resultOf<{ files: Record<string, string> }>(req, 'compile_pipeline');
      if (!compiled.files['defs.yaml']) throw new Error('policy: compile_pipeline returned no defs.yaml');
      return call('deploy_pipeline', { pipeline_id: resultOf(req, 'propose_pipeline').pipeline_id, environment: ENVIRONMENT, dry_run: false, wait: true });
    }),
    react((req) => {
      const saved = resultOf(req, 'propose_pipeline');
      const deploy = resultOf(req, 'deploy_pipeline');
      const how =
        deploy.status === 'deployed'
          ? 'it is deployed and Dagster has loaded it, with its schedule running'
          : deploy.status === 'written'
            ? 'its code location is written to the workspace (this environment has no Dagster to load it)'
            : `the deployment ended "${deploy.status}"${deploy.error ? `: ${deploy.error}` : ''}`;
      return { text: `I built "${saved.name}" (version ${saved.version}): ${plan.summary}. I deployed it to ${deploy.environment}; ${how}.`, chunkSize: 12 };
    }),
  ];
}
