import type { z } from 'zod';
import { filesDiff } from '../../src/compile/diff.ts';
import { AppError } from '../../src/errors.ts';
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
  const { pipelines } = ctx.services;
  return view(input.pipeline_id ? await pipelines.replace(ctx.principal, input.pipeline_id, input.spec, input.base_version) : await pipelines.create(ctx.principal, input.spec));
}

export async function runEditPipeline(input: In<typeof editPipeline>, ctx: ToolContext) {
  return view(await ctx.services.pipelines.patch(ctx.principal, input.pipeline_id, input.patch, input.base_version));
}

export async function runValidatePipeline(input: In<typeof validatePipeline>, ctx: ToolContext) {
  return ctx.services.pipelines.validate(ctx.principal, input.spec);
}

export async function runGetPipeline(input: In<typeof getPipeline>, ctx: ToolContext) {
  return view(await ctx.services.pipelines.get(ctx.principal, input.pipeline_id, input.version));
}

export async function runListPipelines(_input: unknown, ctx: ToolContext) {
  const rows = await ctx.services.pipelines.list(ctx.principal);
  return { pipelines: rows.map((p) => ({ pipeline_id: p.id, name: p.name, current_version: p.current_version, updated_at: p.updated_at.toISOString() })) };
}

export async function runCompilePipeline(input: In<typeof compilePipelineTool>, ctx: ToolContext) {
  const compiled = await ctx.services.compiler.compile(ctx.principal, input.pipeline_id, input.version);
  const base = { version: compiled.view.version.version, location_name: compiled.locationName, content_hash: compiled.contentHash };
  if (!input.diff_against_environment) return { ...base, files: compiled.files, diffed_against_version: null };
  // A misspelt environment has nothing live, so it would look like a first deploy: say so instead.
  if (!ctx.services.connections.get(input.diff_against_environment)) {
    throw new AppError('invalid:environment', `There is no environment "${input.diff_against_environment}".`, {
      hint: `Environments: ${ctx.services.connections.names().join(', ')}.`,
      issues: [{ code: 'unknown_environment', path: '/diff_against_environment', message: `"${input.diff_against_environment}" is not configured` }],
    });
  }
  const live = await ctx.services.deploymentRepo.inPlace(input.pipeline_id, input.diff_against_environment);
  const liveFiles = live ? (await ctx.services.compiler.compileDeployed(ctx.principal, input.pipeline_id, live.version)).files : {};
  return { ...base, files: filesDiff(liveFiles, compiled.files), diffed_against_version: live?.version ?? null };
}

export async function runDeletePipeline(input: In<typeof deletePipeline>, ctx: ToolContext) {
  if (ctx.caller === 'model') {
    // An environment's policy may forbid destructive tools: a pipeline live there is not a model's to delete.
    const guarded = (await ctx.services.deploymentRepo.environmentsOf(input.pipeline_id))
      .map(({ environment }) => ctx.services.deployments.environmentFor(environment))
      .filter((env) => env && !env.policy.allow_destructive);
    if (guarded.length) {
      throw new AppError('forbidden:policy', `delete_pipeline is not allowed: the pipeline is deployed to ${guarded.map((e) => `"${e!.name}"`).join(', ')}, whose policy forbids destructive tools.`, {
        hint: 'A person can delete it through the REST API or the UI.',
      });
    }
  }
  await ctx.services.deployments.deletePipeline(ctx.principal, input.pipeline_id);
  return { deleted: true, pipeline_id: input.pipeline_id };
}
