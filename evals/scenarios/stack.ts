import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { fits } from '../../src/pipelines/validation/check-ports.ts';
import type { ScriptStep } from '../../test/support/scripted-llm.ts';
import { call, proposeValidated, react, resultOf, resultsOf, searchedRef } from '../policy.ts';
import type { BlockTypeCard } from './build.ts';

/** One block of a stack, by catalog slug; its ref and port names come from what the catalog says. */
export interface StackBlock {
  id: string;
  slug: string;
  config: Record<string, unknown>;
  /** Config the block gets only when its schema lists the field (a field a newer version added). */
  ifListed?: Record<string, unknown>;
}

export interface StackPlan {
  /** Catalog searches, in order; every block and sensor type must turn up in one of them. */
  searches: Array<{ query: string; category?: string }>;
  blocks: StackBlock[];
  /** Data flows from → to; the ports are the first output of `from` that fits an input of `to`, by validation's rule. */
  flows: Array<[from: string, to: string]>;
  jobs: Array<{ id: string; blocks: string[]; description?: string }>;
  schedules: Array<{ id: string; cron: string; job?: string }>;
  sensors: Array<StackBlock & { job?: string }>;
  /** Partitions of the pipeline's runs (e.g. daily from a start date), when it has them. */
  partitions?: PipelineSpec['partitions'];
  name: string;
  description: string;
  /** How the answer describes the pipeline. */
  summary: string;
}

/**
 * The steps a good model takes to propose a pipeline of many blocks, jobs and triggers without
 * deploying it: search the catalog, read every block type it uses, write the spec from what they
 * say (refs, port names, config fields), validate it, save it, and tell the user. Nothing here
 * compiles, so a scenario on it grades the proposed spec, not code.
 */
export function proposeStack(plan: StackPlan): () => ScriptStep[] {
  const parts = [...plan.blocks, ...plan.sensors];
  const slugs = [...new Set(parts.map((p) => p.slug))];
  return () => [
    ...plan.searches.map((s) => call('search_block_types', { ...s, limit: 10 })),
    ...slugs.map((slug) => react((req) => call('get_block_type', { ref: searchedRef(req, slug) }))),
    react((req) => {
      const cards = new Map(resultsOf<{ block_type: BlockTypeCard }>(req, 'get_block_type').map(({ block_type: card }) => [card.ref.split('@')[0]!, card]));
      const card = (slug: string) => cards.get(slug) ?? fail(`${slug} was not read`);
      const configOf = (part: StackBlock) => {
        const fields = Object.keys(card(part.slug).config_schema.properties ?? {});
        const unknown = Object.keys(part.config).filter((k) => !fields.includes(k));
        if (unknown.length) fail(`${part.slug} has no config field ${unknown.join(', ')}`);
        return { ...part.config, ...Object.fromEntries(Object.entries(part.ifListed ?? {}).filter(([k]) => fields.includes(k))) };
      };
      const slugOf = new Map(plan.blocks.map((b) => [b.id, b.slug]));
      const edges = plan.flows.map(([from, to]) => {
        const source = card(slugOf.get(from)!);
        const sink = card(slugOf.get(to)!);
        const pair = source.outputs.flatMap((o) => sink.inputs.filter((i) => fits(o, i, source)).map((i) => [o, i] as const))[0];
        if (!pair) fail(`no matching ports between ${source.ref} and ${sink.ref}`);
        return { from: { block: from, port: pair[0].name }, to: { block: to, port: pair[1].name } };
      });
      const spec = {
        name: plan.name,
        description: plan.description,
        blocks: plan.blocks.map((b) => ({ id: b.id, type: card(b.slug).ref, config: configOf(b) })),
        edges,
        jobs: plan.jobs,
        schedules: plan.schedules.map((s) => ({ ...s, timezone: 'UTC' })),
        sensors: plan.sensors.map((s) => ({ id: s.id, type: card(s.slug).ref, config: configOf(s), ...(s.job ? { job: s.job } : {}) })),
        ...(plan.partitions ? { partitions: plan.partitions } : {}),
      };
      return call('validate_pipeline', { spec });
    }),
    proposeValidated(),
    react((req) => {
      const saved = resultOf(req, 'propose_pipeline');
      return { text: `I saved "${saved.name}" (version ${saved.version}): ${plan.summary}. It validates; deploy it when you are ready.`, chunkSize: 12 };
    }),
  ];
}

/** dlt loading the issues of dlt-hub/dlt from GitHub's REST API into a DuckDB file (both stack scenarios start there). */
export function githubIssuesWithDlt(duckdbPath: string, extra: Record<string, unknown> = {}): StackBlock {
  return {
    id: 'ingest_issues',
    slug: 'dlt_ingestion',
    config: {
      pipeline_name: 'github_issues',
      source: 'rest_api',
      source_config: { client: { base_url: 'https://api.github.com/repos/dlt-hub/dlt/' }, resources: ['issues'] },
      destination: 'duckdb',
      duckdb_path: duckdbPath,
      ...extra,
    },
  };
}

function fail(message: string): never {
  throw new Error(`policy: ${message}`);
}
