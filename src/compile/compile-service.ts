import type { Principal } from '../auth/principal.ts';
import type { BlockType } from '../catalog/block-type.ts';
import type { CatalogService } from '../catalog/catalog-service.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import { compilePipeline, type CompiledLocation } from './compile-pipeline.ts';

/** Compiles a stored pipeline version (the current one unless asked otherwise). */
export class CompileService {
  private readonly pipelines: PipelineService;
  private readonly catalog: CatalogService;

  constructor(pipelines: PipelineService, catalog: CatalogService) {
    this.pipelines = pipelines;
    this.catalog = catalog;
  }

  async compile(principal: Principal, pipelineId: string, version?: number): Promise<CompiledLocation & { version: number }> {
    const view = await this.pipelines.get(principal, pipelineId, version);
    const spec = view.version.spec;
    // Stored specs are pinned to slug@version, so this finds exactly the types they were validated against.
    const known = new Map((await this.catalog.sourceFor(principal).lookup([...new Set(spec.blocks.map((b) => b.type.split('@')[0]!))])).map((t) => [t.ref, t]));
    const types = new Map<string, BlockType>();
    for (const block of spec.blocks) {
      const type = known.get(block.type);
      if (type) types.set(block.id, type);
    }
    const compiled = compilePipeline(
      { id: view.pipeline.id, name: view.pipeline.name, description: view.pipeline.description, version: view.version.version },
      spec,
      types,
    );
    return { ...compiled, version: view.version.version };
  }
}
