import type { Principal } from '../auth/principal.ts';
import type { BlockType } from '../catalog/block-type.ts';
import type { CatalogService } from '../catalog/catalog-service.ts';
import type { PipelineService, PipelineView } from '../pipelines/pipeline-service.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import { compilePipeline, type CompiledLocation } from './compile-pipeline.ts';

export type CompiledVersion = CompiledLocation & { view: PipelineView; types: Map<string, BlockType> };

/** Compiles a stored pipeline version (the current one unless asked otherwise). */
export class CompileService {
  private readonly pipelines: PipelineService;
  private readonly catalog: CatalogService;

  constructor(pipelines: PipelineService, catalog: CatalogService) {
    this.pipelines = pipelines;
    this.catalog = catalog;
  }

  async compile(principal: Principal, pipelineId: string, version?: number): Promise<CompiledVersion> {
    const view = await this.pipelines.get(principal, pipelineId, version);
    const types = await this.typesOf(principal, view.version.spec);
    // Name and description as they were in that version's spec: a later rename must not change
    // the bytes (and hash) of an earlier version.
    const compiled = compilePipeline(
      { id: view.pipeline.id, name: view.version.spec.name, description: view.version.spec.description ?? null, version: view.version.version },
      view.version.spec,
      types,
    );
    return { ...compiled, view, types };
  }

  /** Block id → block type. Stored specs are pinned to slug@version, so these are the types they were validated against. */
  private async typesOf(principal: Principal, spec: PipelineSpec): Promise<Map<string, BlockType>> {
    const slugs = [...new Set(spec.blocks.map((b) => b.type.split('@')[0]!))];
    const known = new Map((await this.catalog.sourceFor(principal).lookup(slugs)).map((t) => [t.ref, t]));
    return new Map(spec.blocks.flatMap((block) => (known.has(block.type) ? [[block.id, known.get(block.type)!] as const] : [])));
  }
}
