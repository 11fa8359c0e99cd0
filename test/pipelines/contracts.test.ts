import { describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import type { BlockType } from '../../src/catalog/block-type.ts';
import { createLogger } from '../../src/logger.ts';
import { pipelineSpecSchema } from '../../src/pipelines/spec-schema.ts';
import { checkContracts } from '../../src/pipelines/validation/check-contracts.ts';
import { emptyFindings } from '../../src/pipelines/validation/report.ts';
import { TOOLS, type Tool } from '../../tools/index.ts';
import { runTool } from '../../tools/run-tool.ts';
import { typesFor } from '../compile/fixtures.ts';
import { edge, extract, load, validatorWithCatalog, where } from './spec-fixtures.ts';

// Edge contracts: what a producer declares of a table output against what its consumer needs
// (clickhouse's order_by and version_column), at validation, alike on every surface.

const { report, errors, app } = validatorWithCatalog();

const rows = (...names: string[]) => ({ rows: { columns: names.map((name) => ({ name })) } });

/** extract → load, the extract declaring `contracts`, the load keyed by `order_by`. */
function contracted(contracts: Record<string, unknown>, loadConfig: Record<string, unknown> = {}) {
  return {
    name: 'contracted',
    blocks: [
      { ...extract('extract', { table: 'public.customers' }), contracts },
      load('load', { table: 'customers', order_by: ['id'], ...loadConfig }),
    ],
    edges: [edge('extract', 'rows', 'load', 'rows')],
  };
}

describe('validation of edge contracts', () => {
  it('names a needed column the producer does not declare, at the config value that needs it', async () => {
    const found = await errors(contracted(rows('name', 'email', 'updated_at'), { order_by: ['name', 'id'] }));
    expect(where(found)).toEqual(['contract_mismatch /blocks/1/config/order_by/1']);
    expect(found[0]!.message).toBe('column "id" is not among the columns "extract" produces on port rows (name, email, updated_at)');
    expect(found[0]!.hint).toContain('blocks/0/contracts/rows/columns');
  });

  it('reports a repeated edge\'s contract once (the repetition is duplicate_edge)', async () => {
    const spec = contracted(rows('name', 'updated_at'));
    const found = await errors({ ...spec, edges: [...spec.edges, ...spec.edges] });
    expect(where(found)).toEqual(['duplicate_edge /edges/1', 'contract_mismatch /blocks/1/config/order_by/0']);
  });

  it('checks a defaulted version column too, and reports every missing column at once', async () => {
    const found = await errors(contracted(rows('name')));
    expect(where(found)).toEqual(['contract_mismatch /blocks/1/config/order_by/0', 'contract_mismatch /blocks/1/config/version_column']);
    expect(found[1]!.message).toContain('column "updated_at" (version_column defaults to "updated_at")');
  });

  it('passes when the producer declares every needed column, whatever their types', async () => {
    const result = await report(contracted({ rows: { columns: [{ name: 'id', type: 'integer' }, { name: 'updated_at', type: 'timestamp' }] } }));
    expect(result).toMatchObject({ valid: true, errors: [] });
  });

  it('checks nothing where the producer declares no columns: unknown is not wrong', async () => {
    const spec = contracted({});
    delete (spec.blocks[0] as { contracts?: unknown }).contracts;
    expect(await report({ ...spec, blocks: [spec.blocks[0], load('load', { table: 'customers', order_by: ['no_such_column'] })] })).toMatchObject({ valid: true, errors: [] });
  });

  it('takes an extract\'s column selection as what it produces, and points the hint at it', async () => {
    const spec = contracted({});
    spec.blocks[0] = extract('extract', { table: 'public.customers', columns: ['id', 'name'] });
    const found = await errors(spec);
    expect(where(found)).toEqual(['contract_mismatch /blocks/1/config/version_column']);
    expect(found[0]!.message).toBe('column "updated_at" (version_column defaults to "updated_at") is not among the columns "extract" produces on port rows (id, name)');
    expect(found[0]!.hint).toContain('add it to /blocks/0/config/columns');
    spec.blocks[0] = extract('extract', { table: 'public.customers', columns: ['id', 'name', 'updated_at'] });
    expect(await report(spec)).toMatchObject({ valid: true, errors: [] });
  });

  it('refuses a contract on a port that is not a table output of the block', async () => {
    const found = await errors(contracted({ ...rows('id', 'updated_at'), out: { columns: [{ name: 'id' }] } }));
    expect(where(found)).toEqual(['invalid_contract /blocks/0/contracts/out']);
    expect(found[0]!.hint).toContain('rows');
  });

  it('refuses a type outside the closed set, at its path', async () => {
    const result = await report(contracted({ rows: { columns: [{ name: 'id', type: 'varchar' }] } }));
    expect(result.valid).toBe(false);
    expect(result.errors.map((e) => e.path)).toEqual(['/blocks/0/contracts/rows/columns/0/type']);
  });
});

describe('typed contracts', () => {
  // No built-in input declares typed columns yet: a ClickHouse load whose type needs an integer id.
  const typedLoad = (type: BlockType): BlockType => ({ ...type, inputs: type.inputs.map((p) => ({ ...p, columns: [{ name: 'id', type: 'integer' as const }] })) });
  function check(idType: string) {
    const spec = pipelineSpecSchema.parse(contracted({ rows: { columns: [{ name: 'id', type: idType }, { name: 'updated_at' }] } }));
    const types = typesFor(spec);
    types.set('load', typedLoad(types.get('load')!));
    const findings = emptyFindings();
    checkContracts({ spec, typeOf: types, indexOf: new Map([['extract', 0], ['load', 1]]) }, findings);
    return findings.errors;
  }

  it('names a column whose declared type differs from the needed one, at the edge', () => {
    expect(check('string')).toEqual([
      expect.objectContaining({ code: 'contract_mismatch', path: '/edges/0', message: 'column "id" must be integer for "load", but "extract" declares it string on port rows' }),
    ]);
    expect(check('integer')).toEqual([]);
  });
});

describe('the same contract issue on every surface', () => {
  const spec = () => contracted(rows('email'), { version_column: 'email' });
  const expected = {
    code: 'contract_mismatch',
    path: '/blocks/1/config/order_by/0',
    message: 'column "id" is not among the columns "extract" produces on port rows (email)',
  };

  it('POST /v1/pipelines/validate and the validate_pipeline tool report it alike', async () => {
    const rest = await app().call('POST', '/v1/pipelines/validate', spec());
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ valid: false, errors: [expect.objectContaining(expected)] });
    expect(rest.body.errors).toHaveLength(1);

    const ctx = { principal: LOCAL_PRINCIPAL, domain: app().services.domain, log: createLogger('silent'), signal: new AbortController().signal, caller: 'model' as const, surface: 'mcp' as const };
    const outcome = await runTool(TOOLS.find((x) => x.name === 'validate_pipeline') as Tool, { spec: spec() }, ctx, { readOnly: false, approvals: app().services.approvals });
    expect(outcome).toMatchObject({ kind: 'ok', output: { valid: false } });
    expect(outcome.kind === 'ok' && outcome.output.errors).toEqual(rest.body.errors);
  });
});
