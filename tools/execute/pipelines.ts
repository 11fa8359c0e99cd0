import type { z } from 'zod';
import type { CompiledVersion } from '../../src/compile/compile-service.ts';
import type { PipelineView } from '../../src/pipelines/pipeline-service.ts';
import type { compilePipelineTool, deletePipeline, editPipeline, getPipeline, proposePipeline, validatePipeline } from '../definitions/pipelines.ts';
import type { ToolContext } from '../tool.ts';

type In<T extends { input: z.ZodObject }> = z.infer<T['input']>;

const view = ({ pipeline, version, versions }: PipelineView) => ({
  pipeline_id: pipeline.id,
  name: pipeline.name,
  version: version.version,
  current_version: pipeline.current_version,
  spec: version.spec as Record<string, unknown>,
  versions: versions.map((v) => ({ version: v.version, created_at: v.created_at.toISOString(), origin: String(v.origin.kind ?? 'spec') })),
});

export async function runProposePipeline(input: In<typeof proposePipeline>, ctx: ToolContext) {
  const { pipelines } = ctx.domain;
  return view(input.pipeline_id ? await pipelines.replace(ctx.principal, input.pipeline_id, input.spec, input.base_version) : await pipelines.create(ctx.principal, input.spec));
}

export async function runEditPipeline(input: In<typeof editPipeline>, ctx: ToolContext) {
  return view(await ctx.domain.pipelines.patch(ctx.principal, input.pipeline_id, input.patch, input.base_version));
}

export async function runValidatePipeline(input: In<typeof validatePipeline>, ctx: ToolContext) {
  return ctx.domain.pipelines.validate(ctx.principal, input.spec);
}

export async function runGetPipeline(input: In<typeof getPipeline>, ctx: ToolContext) {
  return view(await ctx.domain.pipelines.get(ctx.principal, input.pipeline_id, input.version));
}

export async function runListPipelines(_input: unknown, ctx: ToolContext) {
  const rows = await ctx.domain.pipelines.list(ctx.principal);
  return { pipelines: rows.map((p) => ({ pipeline_id: p.id, name: p.name, current_version: p.current_version, updated_at: p.updated_at.toISOString() })) };
}

export async function runCompilePipeline(input: In<typeof compilePipelineTool>, ctx: ToolContext) {
  if (!input.diff_against_environment) {
    const compiled = await ctx.domain.compiler.compile(ctx.principal, input.pipeline_id, input.version);
    return { ...summary(compiled), files: compiled.files, diffed_against_version: null };
  }
  const diff = await ctx.domain.deployments.diff(ctx.principal, input.pipeline_id, {
    environment: input.diff_against_environment,
    ...(input.version ? { version: input.version } : {}),
    path: '/diff_against_environment',
  });
  return { ...summary(diff.compiled), files: diff.changes, diffed_against_version: diff.live?.version ?? null };
}

const summary = (compiled: CompiledVersion) => ({
  version: compiled.view.version.version,
  component_name: compiled.componentName,
  content_hash: compiled.contentHash,
  requirements: compiled.requirements,
  dagster_jobs: compiled.dagsterJobs,
});

/** A pipeline that is not there (or is another org's) is refused before anyone is asked to approve deleting it. */
export async function checkPipelineExists(input: In<typeof deletePipeline>, ctx: ToolContext): Promise<void> {
  await ctx.domain.pipelines.get(ctx.principal, input.pipeline_id);
}

export async function runDeletePipeline(input: In<typeof deletePipeline>, ctx: ToolContext) {
  await ctx.domain.deployments.deletePipeline(ctx.principal, input.pipeline_id, ctx.caller);
  return { deleted: true, pipeline_id: input.pipeline_id };
}
