import type { Principal } from '../src/auth/principal.ts';
import { MAX_SAMPLE_ROWS, type InspectionView, type InspectRequest, type SourceInspection } from '../src/dagster/source-inspection.ts';

/**
 * Source inspection for evals. The eval environment is write-only (no Dagster), so the inspection
 * job cannot run; a scenario describes its source table instead, and this answers inspect_source
 * from that description, in the shape the real job answers, and records every call so that graders
 * can tell whether the model looked before it proposed. It stands in for the domain service, above
 * the Dagster adapter: the tool, its input checks and its untrusted-data fence are the real ones.
 */

/** A scenario's source table, as the inspection job would see it. */
export interface SourceTable {
  /** The source block type that reads it, slug@version, e.g. "postgres_incremental_extract@1". */
  block_type: string;
  /** The secret (environment variable) holding the connection URL of its database. */
  secret: string;
  /** Schema-qualified, e.g. "public.accounts". */
  table: string;
  columns: NonNullable<InspectionView['columns']>;
  rows: unknown[][];
}

/** One inspect_source call: when, what was asked and what it answered. */
export interface InspectionCall {
  at: Date;
  environment: string;
  request: InspectRequest;
  answer: InspectionView;
}

export type SourceStandIn = SourceInspection & { calls: InspectionCall[] };

/** The same table however it is written: "accounts" is "public.accounts", Postgres's default schema. */
export const qualified = (table: string) => (table.includes('.') ? table : `public.${table}`);

export function sourceStandIn(source: SourceTable): SourceStandIn {
  const calls: InspectionCall[] = [];
  return {
    calls,
    async inspect(_principal: Principal, environment: string, request: InspectRequest) {
      const answer = { environment, block_type: source.block_type, run_id: `stand-in-${calls.length + 1}`, ...answerOf(source, request) };
      calls.push({ at: new Date(), environment, request, answer });
      return answer;
    },
  };
}

/** What the job would say: the table, or why not (the wrong block type, database or table), as inspect_source.py words it. */
function answerOf(source: SourceTable, request: InspectRequest): Omit<InspectionView, 'environment' | 'block_type' | 'run_id'> {
  const slug = source.block_type.split('@')[0]!;
  if (request.block_type !== source.block_type && request.block_type !== slug) return { ok: false, error: `the source is a ${slug} table; ${request.block_type} cannot read it` };
  const secret = request.config.connection_secret;
  if (secret !== source.secret) return { ok: false, error: `the database in ${String(secret ?? 'the default secret')} has no table ${source.table}; it is in ${source.secret}` };
  const tables = [source.table];
  const table = request.table ?? (typeof request.config.table === 'string' ? request.config.table : undefined);
  if (!table) return { ok: true, tables, tables_truncated: false };
  if (qualified(table) !== source.table) return { ok: false, error: `table "${table}" does not exist in the database in ${secret} (or its user cannot see it); tables: ${source.table}` };
  const rows = source.rows.slice(0, Math.min(request.sample_rows ?? 5, MAX_SAMPLE_ROWS));
  return { ok: true, tables, tables_truncated: false, table, columns: source.columns, rows };
}
