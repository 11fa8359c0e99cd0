import type { Principal } from '../auth/principal.ts';
import { requireRole } from '../auth/roles.ts';
import type { CatalogService } from '../catalog/catalog-service.ts';
import { checkConfig } from '../catalog/config-validator.ts';
import { AppError, notFound, type Issue } from '../errors.ts';
import type { BlockRepo, BlockRow, EdgeRow, NewEdge } from './block-repo.ts';
import { createPipelineFromBlocks, type FromBlocksRequest } from './pipeline-from-blocks.ts';
import type { PipelineService, PipelineView } from './pipeline-service.ts';
import { checkPorts } from './validation/check-ports.ts';
import { emptyFindings } from './validation/report.ts';

/** Placing blocks from block types, wiring their ports, and keeping both valid as they change. */
export class BlockService {
  private readonly repo: BlockRepo;
  private readonly catalog: CatalogService;
  private readonly pipelines: PipelineService;

  constructor(repo: BlockRepo, catalog: CatalogService, pipelines: PipelineService) {
    this.repo = repo;
    this.catalog = catalog;
    this.pipelines = pipelines;
  }

  /** A pipeline built from placed blocks and the edges among them (the seed's POST /dagster/pipelines/). */
  async pipelineFrom(principal: Principal, request: FromBlocksRequest): Promise<PipelineView> {
    requireRole(principal, 'edit', 'Creating a pipeline');
    return createPipelineFromBlocks(principal, request, { blocks: this.repo, pipelines: this.pipelines });
  }

  async create(principal: Principal, input: { name: string; block_type: string; config: Record<string, unknown> }): Promise<BlockRow> {
    requireRole(principal, 'edit', 'Creating a block');
    const type = await this.catalog.require(principal, input.block_type);
    if (type.category === 'trigger') {
      throw new AppError('invalid:block_type', `"${type.ref}" is a trigger; triggers belong to a pipeline, not to the block canvas.`, {
        hint: 'Add schedules and sensors to the pipeline spec (or "schedule" in the pipeline configuration).',
      });
    }
    rejectBadConfig(checkConfig(type.config_schema, input.config, '/config'));
    return this.repo.createBlock(principal, { name: input.name, block_type: type.slug, block_type_version: type.version, config: input.config });
  }

  async update(principal: Principal, id: string, changes: { name?: string; config?: Record<string, unknown> }): Promise<BlockRow> {
    requireRole(principal, 'edit', 'Changing a block');
    const [current] = await this.repo.getBlocks(principal, [id]);
    if (!current) throw notFound('block', id);
    if (changes.config) {
      const type = await this.catalog.require(principal, `${current.block_type}@${current.block_type_version}`);
      rejectBadConfig(checkConfig(type.config_schema, changes.config, '/config'));
    }
    const updated = await this.repo.updateBlock(principal, id, changes);
    if (!updated) throw notFound('block', id);
    return updated;
  }

  async get(principal: Principal, id: string): Promise<BlockRow> {
    const [row] = await this.repo.getBlocks(principal, [id]);
    if (!row) throw notFound('block', id);
    return row;
  }

  list(principal: Principal, opts: { blockType?: string; limit: number; offset: number }): Promise<BlockRow[]> {
    return this.repo.listBlocks(principal, opts);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    requireRole(principal, 'edit', 'Deleting a block');
    if (!(await this.repo.deleteBlock(principal, id))) throw notFound('block', id);
  }

  /** Joins an output port to an input port, after the same port checks a pipeline gets. */
  async connect(principal: Principal, input: NewEdge): Promise<EdgeRow> {
    requireRole(principal, 'edit', 'Connecting blocks');
    // UUIDs are accepted in either case but stored (and compared below) in lower case.
    const edge = { ...input, source_block_id: input.source_block_id.toLowerCase(), target_block_id: input.target_block_id.toLowerCase() };
    const blocks = await this.repo.getBlocks(principal, [edge.source_block_id, edge.target_block_id]);
    const byId = new Map(blocks.map((b) => [b.id, b]));
    const missing: Issue[] = (['source_block_id', 'target_block_id'] as const)
      .filter((field) => !byId.has(edge[field]))
      .map((field) => ({ code: 'unknown_block', path: `/${field}`, message: `no block with id "${edge[field]}"`, hint: 'Create the block first, or list blocks for its id.' }));
    if (missing.length) throw new AppError('not_found:block', 'The edge names a block that does not exist.', { issues: missing });

    const source = byId.get(edge.source_block_id)!;
    const target = byId.get(edge.target_block_id)!;
    // A block feeding itself must reach checkPorts as one block, so that it reports the cycle.
    const ends = source.id === target.id ? [source] : [source, target];
    const specIds = ['source', ends.length === 1 ? 'source' : 'target'] as const;
    const findings = emptyFindings();
    checkPorts(
      {
        spec: {
          name: 'edge',
          blocks: ends.map((b, i) => ({ id: specIds[i]!, type: `${b.block_type}@${b.block_type_version}`, config: {} })),
          edges: [{ from: { block: specIds[0], port: edge.source_port }, to: { block: specIds[1], port: edge.target_port } }],
          jobs: [],
          schedules: [],
          sensors: [],
        },
        typeOf: new Map(
          await Promise.all(ends.map(async (b, i) => [specIds[i]!, await this.catalog.require(principal, `${b.block_type}@${b.block_type_version}`)] as const)),
        ),
        indexOf: new Map(ends.map((_, i) => [specIds[i]!, i])),
      },
      findings,
    );
    const EDGE_FIELDS: Record<string, string> = { '/edges/0/from/port': '/source_port', '/edges/0/to/port': '/target_port', '/edges/0': '' };
    const issues = findings.errors
      .filter((issue) => issue.path in EDGE_FIELDS)
      .map((issue) => ({ ...issue, path: EDGE_FIELDS[issue.path]! }));
    if (issues.length) throw new AppError('invalid:edge', 'These ports cannot be connected.', { issues });

    const created = await this.repo.createEdge(principal, edge);
    if (!created) throw new AppError('conflict:edge', 'This edge already exists.', { hint: 'List the block\'s edges to see it.' });
    return created;
  }

  async getEdge(principal: Principal, id: string): Promise<EdgeRow> {
    const row = await this.repo.getEdge(principal, id);
    if (!row) throw notFound('edge', id);
    return row;
  }

  listEdges(principal: Principal, blockId?: string): Promise<EdgeRow[]> {
    return this.repo.listEdges(principal, blockId);
  }

  async disconnect(principal: Principal, id: string): Promise<void> {
    requireRole(principal, 'edit', 'Deleting an edge');
    if (!(await this.repo.deleteEdge(principal, id))) throw notFound('edge', id);
  }
}

function rejectBadConfig(issues: Issue[]): void {
  if (issues.length === 0) return;
  throw new AppError('invalid:config', `The block config has ${issues.length} problem${issues.length === 1 ? '' : 's'}.`, {
    hint: "Fix each field listed; the block type's config_schema describes them all.",
    issues: issues.map((issue) => ({ code: 'invalid_config', ...issue })),
  });
}
