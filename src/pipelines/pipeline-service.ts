import fastJsonPatch from 'fast-json-patch';
import { requireRole } from '../auth/roles.ts';
import type { Principal } from '../auth/principal.ts';
import type { CatalogService } from '../catalog/catalog-service.ts';
import { AppError, notFound } from '../errors.ts';
import type { PipelineRepo, PipelineRow, VersionRow } from './pipeline-repo.ts';
import type { PipelineSpec } from './spec-schema.ts';
import { validateSpec, type ValidationReport } from './validation/validate-spec.ts';
import { toJsonPatchOps, type JsonPatchOp } from './json-patch.ts';

export interface PipelineView {
  pipeline: PipelineRow;
  version: VersionRow;
  versions: Array<Omit<VersionRow, 'spec'>>;
}

/**
 * Pipelines as users and models see them: every write validates the whole spec first and stores
 * a new immutable version, or stores nothing and says everything that is wrong.
 */
export class PipelineService {
  private readonly repo: PipelineRepo;
  private readonly catalog: CatalogService;

  constructor(repo: PipelineRepo, catalog: CatalogService) {
    this.repo = repo;
    this.catalog = catalog;
  }

  /** Full report without saving anything. */
  async validate(principal: Principal, spec: unknown): Promise<ValidationReport> {
    const { spec: _parsed, ...report } = await validateSpec(spec, this.catalog.sourceFor(principal));
    return report;
  }

  async create(principal: Principal, spec: unknown, origin: object = { kind: 'spec' }): Promise<PipelineView> {
    requireRole(principal, 'edit', 'Creating a pipeline');
    const valid = await this.checked(principal, spec);
    const row = await this.repo.create(principal, valid, origin);
    if (!row) throw nameTaken(valid.name);
    return this.view(principal, row.id);
  }

  /** Replaces the whole spec as a new version. */
  async replace(principal: Principal, id: string, spec: unknown, baseVersion?: number): Promise<PipelineView> {
    requireRole(principal, 'edit', 'Changing a pipeline');
    const current = await this.require(principal, id);
    requireBase(current, baseVersion);
    const valid = await this.checked(principal, spec);
    return this.append(principal, current, valid, { kind: 'replace' }, baseVersion);
  }

  /**
   * Applies an RFC 6902 patch to the current spec and stores the result as a new version. A patch
   * that cannot apply, or yields an invalid spec, stores nothing.
   */
  async patch(principal: Principal, id: string, ops: unknown, baseVersion?: number): Promise<PipelineView> {
    requireRole(principal, 'edit', 'Changing a pipeline');
    const current = await this.require(principal, id);
    requireBase(current, baseVersion);
    const version = (await this.repo.version(id, current.current_version))!;
    const operations = toJsonPatchOps(ops);
    let patched: unknown = structuredClone(version.spec);
    // One operation at a time: applyPatch reports a path that does not resolve as operation 0
    // whichever operation it was, and the error must name the one that failed. Each operation is
    // cloned because its value is inserted by reference, and a later operation editing inside it
    // would otherwise rewrite the patch recorded as this version's origin.
    for (const [index, operation] of operations.entries()) {
      try {
        patched = fastJsonPatch.applyOperation(patched, structuredClone(operation) as fastJsonPatch.Operation, true, true, true, index).newDocument;
      } catch (error) {
        throw patchError(error, operations, index);
      }
    }
    const valid = await this.checked(principal, patched);
    return this.append(principal, current, valid, { kind: 'patch', patch: operations, base_version: current.current_version }, baseVersion);
  }

  async get(principal: Principal, id: string, version?: number): Promise<PipelineView> {
    await this.require(principal, id);
    return this.view(principal, id, version);
  }

  list(principal: Principal): Promise<PipelineRow[]> {
    return this.repo.list(principal);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    requireRole(principal, 'edit', 'Deleting a pipeline');
    if (!(await this.repo.delete(principal, id))) throw notFound('pipeline', id);
  }

  async require(principal: Principal, id: string): Promise<PipelineRow> {
    const row = await this.repo.get(principal, id);
    if (!row) throw notFound('pipeline', id);
    return row;
  }

  private async view(principal: Principal, id: string, version?: number): Promise<PipelineView> {
    const pipeline = await this.require(principal, id);
    const wanted = version ?? pipeline.current_version;
    const row = await this.repo.version(id, wanted);
    if (!row) {
      throw new AppError('not_found:pipeline_version', `Pipeline "${id}" has no version ${wanted}.`, {
        hint: `Versions run from 1 to ${pipeline.current_version}.`,
      });
    }
    return { pipeline, version: row, versions: await this.repo.versions(id) };
  }

  private async append(principal: Principal, current: PipelineRow, spec: PipelineSpec, origin: object, baseVersion?: number) {
    const expected = baseVersion ?? current.current_version;
    const result = await this.repo.appendVersion(principal, current.id, expected, spec, origin);
    if (result === 'name_taken') throw nameTaken(spec.name);
    if (result === 'stale') throw staleVersion(current.id, expected);
    return this.view(principal, current.id);
  }

  /** Validates and returns the spec with every block type pinned to "slug@version", none of them retired. */
  private async checked(principal: Principal, spec: unknown): Promise<PipelineSpec> {
    const source = this.catalog.sourceFor(principal);
    const report = await validateSpec(spec, source);
    const pinned = report.valid && report.spec ? await this.catalog.pinTypes(principal, report.spec) : null;
    // A new version may not take up a retired block type (stored versions that pin one still compile).
    const errors = pinned ? await this.catalog.retiredIn(principal, pinned) : report.errors;
    if (!pinned || errors.length) {
      const n = errors.length;
      throw new AppError('invalid:pipeline', `The pipeline spec has ${n} problem${n === 1 ? '' : 's'}; nothing was saved.`, {
        hint: 'Fix every issue listed (each has a JSON path into the spec) and send it again.',
        issues: errors,
      });
    }
    return pinned;
  }
}

const staleVersion = (id: string, expected: number, actual?: number) =>
  new AppError(
    'conflict:pipeline_version',
    actual === undefined
      ? `Pipeline "${id}" changed while your edit of version ${expected} was being saved.`
      : `Pipeline "${id}" is at version ${actual}, not ${expected}.`,
    { hint: 'Fetch the pipeline again and apply your edit to its current version.' },
  );

/**
 * An edit made against an older version is a conflict before anything else: applied to the
 * current spec it could fail as an invalid patch or spec, sending the caller to fix the wrong
 * thing. (The store checks again when it writes, for edits that race.)
 */
function requireBase(current: PipelineRow, baseVersion: number | undefined): void {
  if (baseVersion !== undefined && baseVersion !== current.current_version) throw staleVersion(current.id, baseVersion, current.current_version);
}

const nameTaken = (name: string) =>
  new AppError('conflict:pipeline_name', `A pipeline named "${name}" already exists in your org.`, {
    hint: 'Choose another name, or edit the existing pipeline instead.',
  });

function patchError(error: unknown, ops: JsonPatchOp[], index: number): AppError {
  const e = error as { message?: string };
  const op = ops[index];
  const firstLine = (e.message ?? 'the patch could not be applied').split('\n')[0];
  return new AppError('invalid:patch', `JSON patch operation ${index} could not be applied: ${firstLine}`, {
    hint: 'Paths are JSON Pointers into the current spec, e.g. "/blocks/0/config/batch_size"; fetch the pipeline to see it.',
    issues: [{ code: 'invalid_patch', path: `/${index}`, message: `${op?.op ?? 'operation'} at "${op?.path ?? ''}" failed: ${firstLine}` }],
  });
}
