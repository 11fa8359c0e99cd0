import type { Principal } from '../auth/principal.ts';
import type { BlockType } from '../catalog/block-type.ts';
import type { CatalogService } from '../catalog/catalog-service.ts';
import { AppError } from '../errors.ts';
import type { PipelineService, PipelineView } from '../pipelines/pipeline-service.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import { compilePipeline, type CompiledPipeline } from './compile-pipeline.ts';

export type CompiledVersion = CompiledPipeline & { view: PipelineView; types: Map<string, BlockType> };

/** Compiles a stored pipeline version (the current one unless asked otherwise). */
export class CompileService {
  private readonly pipelines: PipelineService;
  private readonly catalog: CatalogService;

  constructor(pipelines: PipelineService, catalog: CatalogService) {
    this.pipelines = pipelines;
    this.catalog = catalog;
  }

  /**
   * Compiles a version to show it or to deploy it. The version is validated again first: one
   * stored before today's rules (a name Dagster refuses, a cron it cannot run) stays readable,
   * but compiling and deploying it are refused with every issue and its path, on every surface.
   */
  async compile(principal: Principal, pipelineId: string, version?: number): Promise<CompiledVersion> {
    const view = await this.pipelines.get(principal, pipelineId, version);
    const report = await this.pipelines.validate(principal, view.version.spec);
    if (!report.valid) {
      const n = report.errors.length;
      throw new AppError('invalid:pipeline', `Version ${view.version.version} of this pipeline breaks ${n} validation rule${n === 1 ? '' : 's'} made since it was stored; it cannot be compiled or deployed.`, {
        hint: 'Fix each issue (paths point into the spec) with an edit, which stores a new version, and deploy that one.',
        issues: report.errors,
      });
    }
    return this.build(principal, view);
  }

  /**
   * What a version already deployed compiles to, for a diff against it or the jobs to launch:
   * not validated again, since it is live in Dagster as it is.
   */
  async compileDeployed(principal: Principal, pipelineId: string, version: number): Promise<CompiledVersion> {
    return this.build(principal, await this.pipelines.get(principal, pipelineId, version));
  }

  private async build(principal: Principal, view: PipelineView): Promise<CompiledVersion> {
    const types = await this.typesOf(principal, view.version.spec);
    // Name and description as they were in that version's spec: a later rename must not change
    // the bytes (and hash) of an earlier version. Slugs never change, so they cannot either.
    const { id, slug, org_slug: orgSlug } = view.pipeline;
    const compiled = compilePipeline(
      { id, name: view.version.spec.name, description: view.version.spec.description ?? null, version: view.version.version, slug, orgSlug },
      view.version.spec,
      types,
    );
    return { ...compiled, view, types };
  }

  /**
   * Block or sensor id → its type (ids are unique across both). Stored specs are pinned to
   * slug@version, so these are the types they were validated against.
   */
  private async typesOf(principal: Principal, spec: PipelineSpec): Promise<Map<string, BlockType>> {
    const placed = [...spec.blocks, ...spec.sensors];
    const slugs = [...new Set(placed.map((b) => b.type.split('@')[0]!))];
    const known = new Map((await this.catalog.sourceFor(principal).lookup(slugs)).map((t) => [t.ref, t]));
    return new Map(placed.flatMap((item) => (known.has(item.type) ? [[item.id, known.get(item.type)!] as const] : [])));
  }
}
