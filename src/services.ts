import type { Db } from './adapters/store/db.ts';
import { CatalogRepo } from './catalog/catalog-repo.ts';
import { CatalogService } from './catalog/catalog-service.ts';
import { CompileService } from './compile/compile-service.ts';
import { BlockRepo } from './pipelines/block-repo.ts';
import { BlockService } from './pipelines/block-service.ts';
import { PipelineRepo } from './pipelines/pipeline-repo.ts';
import { PipelineService } from './pipelines/pipeline-service.ts';

/** The domain services every surface (REST now; tools, chat and MCP later) calls. */
export interface Services {
  db: Db;
  catalogRepo: CatalogRepo;
  catalog: CatalogService;
  blockRepo: BlockRepo;
  blocks: BlockService;
  pipelines: PipelineService;
  compiler: CompileService;
}

export function createServices(db: Db): Services {
  const catalogRepo = new CatalogRepo(db);
  const catalog = new CatalogService(catalogRepo);
  const blockRepo = new BlockRepo(db);
  const pipelines = new PipelineService(new PipelineRepo(db), catalog);
  return {
    db,
    catalogRepo,
    catalog,
    blockRepo,
    blocks: new BlockService(blockRepo, catalog),
    pipelines,
    compiler: new CompileService(pipelines, catalog),
  };
}
