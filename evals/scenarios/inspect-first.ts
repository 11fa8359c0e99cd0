import type { InspectionView } from '../../src/dagster/source-inspection.ts';
import type { ScriptStep } from '../../test/support/scripted-llm.ts';
import { answerMentions, blockConfig, blocks, columnsSeen, inspectedBeforeProposing, validates } from '../graders.ts';
import { ENVIRONMENT } from '../harness.ts';
import { argumentsOf, call, proposeValidated, react, resultOf, resultsOf, searchedRef } from '../policy.ts';
import type { Scenario } from '../scenario.ts';
import type { SourceTable } from '../source-stand-in.ts';
import type { BlockTypeCard } from './build.ts';

const EXTRACT = 'postgres_incremental_extract@1';
const CLICKHOUSE = 'clickhouse_replacing_merge_tree_load@1';

/** The user's table: its key and version columns are not the blocks' defaults (id, created_at, updated_at), so only a model that looked gets them right. */
export const ACCOUNTS: SourceTable = {
  block_type: EXTRACT,
  secret: 'SOURCE_DB_URL',
  table: 'public.accounts',
  columns: [
    { name: 'account_id', type: 'integer', source_type: 'integer', nullable: false },
    { name: 'display_name', type: 'string', source_type: 'text', nullable: true },
    { name: 'created_on', type: 'timestamp', source_type: 'timestamp with time zone', nullable: false },
    { name: 'modified_on', type: 'timestamp', source_type: 'timestamp with time zone', nullable: false },
  ],
  rows: [
    [1, 'Ada', '2024-03-01T09:00:00+00:00', '2024-05-02T10:30:00+00:00'],
    [2, 'Grace', '2024-03-04T12:00:00+00:00', '2024-03-04T12:00:00+00:00'],
  ],
};

/** The config fields of these block types that name a source column. */
export const COLUMN_FIELDS = {
  [EXTRACT]: ['columns', 'primary_key', 'created_at_column', 'updated_at_column'],
  [CLICKHOUSE]: ['order_by', 'version_column'],
};

/** Which columns a policy names: the key, when rows were created, and the version (when they last changed). */
export interface ColumnChoice {
  key: string;
  created: string;
  version: string;
}

type Column = NonNullable<InspectionView['columns']>[number];

/** How a good model reads an inspection: the non-null integer ending in "id" is the key; of the timestamps, the one saying "creat" is creation, the one saying "modif"/"updat" the version. */
export function chooseColumns(columns: Column[]): ColumnChoice {
  const pick = (what: string, test: (c: Column) => boolean) => columns.find(test)?.name ?? fail(`the inspection shows no ${what}: ${columns.map((c) => c.name).join(', ')}`);
  return {
    key: pick('integer key', (c) => c.type === 'integer' && !c.nullable && /(^|_)id$/.test(c.name)),
    created: pick('creation timestamp', (c) => c.type === 'timestamp' && /creat/.test(c.name)),
    version: pick('version timestamp', (c) => c.type === 'timestamp' && /modif|updat/.test(c.name)),
  };
}

/**
 * The steps a good model takes: find both blocks, read their schemas, inspect the source with the
 * config it will use, then write the spec from the columns it saw: the extract's key and
 * timestamps, a contract on its rows (so that validation checks the sink against them), and the
 * sink's key and version column; validate, propose, and say which columns it chose. With `guess`,
 * it skips the inspection and writes those names instead, as a model that never looked would.
 */
export function inspectThenPropose(opts: { guess?: ColumnChoice } = {}): () => ScriptStep[] {
  const sourceConfig = { table: ACCOUNTS.table, connection_secret: ACCOUNTS.secret };
  return () => [
    call('search_block_types', { query: 'postgres incremental extract clickhouse deduplicate latest version', limit: 5 }),
    react((req) => call('get_block_type', { ref: searchedRef(req, 'postgres_incremental_extract') })),
    react((req) => call('get_block_type', { ref: searchedRef(req, 'clickhouse_replacing_merge_tree_load') })),
    ...(opts.guess ? [] : [react((req) => call('inspect_source', { block_type: searchedRef(req, 'postgres_incremental_extract'), config: sourceConfig, environment: ENVIRONMENT, sample_rows: 3 }))]),
    react((req) => {
      const cards = resultsOf<{ block_type: BlockTypeCard }>(req, 'get_block_type').map((r) => r.block_type);
      const source = cards.find((c) => c.ref.startsWith('postgres_incremental_extract@')) ?? fail('the extract was not read');
      const sink = cards.find((c) => c.ref.startsWith('clickhouse_replacing_merge_tree_load@')) ?? fail('the ClickHouse load was not read');
      const seen = opts.guess ? null : resultOf<InspectionView>(req, 'inspect_source');
      if (seen && !seen.ok) fail(`the inspection failed: ${seen.error}`);
      const { key, created, version } = opts.guess ?? chooseColumns(seen!.columns ?? []);
      const output = source.outputs.find((o) => o.type === 'table') ?? fail(`${source.ref} has no table output`);
      const input = sink.inputs.find((i) => i.type === 'table') ?? fail(`${sink.ref} has no table input`);
      const spec = {
        name: 'Accounts to ClickHouse',
        description: `New and changed rows of ${ACCOUNTS.table} into ClickHouse, the latest version of each ${key} kept.`,
        blocks: [
          {
            id: 'extract_accounts',
            type: source.ref,
            config: { ...sourceConfig, primary_key: [key], created_at_column: created, updated_at_column: version },
            ...(seen ? { contracts: { [output.name]: { columns: seen.columns!.map((c) => ({ name: c.name, ...(c.type ? { type: c.type } : {}) })) } } } : {}),
          },
          { id: 'load_accounts', type: sink.ref, config: { table: 'accounts', order_by: [key], version_column: version, connection_secret: 'WAREHOUSE_URL' } },
        ],
        edges: [{ from: { block: 'extract_accounts', port: output.name }, to: { block: 'load_accounts', port: input.name } }],
        schedules: [{ id: 'hourly', cron: '0 * * * *', timezone: 'UTC' }],
      };
      return call('validate_pipeline', { spec });
    }),
    proposeValidated(),
    react((req) => {
      const saved = resultOf(req, 'propose_pipeline');
      const spec = JSON.parse(String(argumentsOf(req, 'propose_pipeline').spec));
      const sink = spec.blocks[1].config;
      return {
        text: `I saved "${saved.name}" (version ${saved.version}): every hour it copies new and changed rows of ${ACCOUNTS.table} into the ClickHouse table accounts, ` +
          `keyed on ${sink.order_by.join(', ')}, keeping the row with the latest ${sink.version_column}. It validates; deploy it when you are ready.`,
        chunkSize: 12,
      };
    }),
  ];
}

/** Dedupe on a key the user never named: the model has to look at the table to know it. */
export const inspectFirst: Scenario = {
  name: 'inspect-first',
  messages: [
    'Every hour, sync my Postgres table public.accounts (its connection URL is in the secret SOURCE_DB_URL) into a ClickHouse table called accounts, ' +
      "deduplicated on the table's key, keeping the latest version of each row. Propose it; don't deploy yet.",
  ],
  source: ACCOUNTS,
  policy: inspectThenPropose(),
  graders: [
    inspectedBeforeProposing(EXTRACT, ACCOUNTS.table),
    blocks(EXTRACT, CLICKHOUSE),
    validates(),
    columnsSeen(COLUMN_FIELDS),
    blockConfig(EXTRACT, 'public.accounts from SOURCE_DB_URL, keyed on account_id, changes by modified_on', (c) =>
      /^(public\.)?accounts$/.test(String(c.table)) && c.connection_secret === 'SOURCE_DB_URL' && JSON.stringify(c.primary_key) === '["account_id"]' && c.updated_at_column === 'modified_on'),
    blockConfig(CLICKHOUSE, 'accounts ordered by account_id, version modified_on', (c) => c.table === 'accounts' && JSON.stringify(c.order_by) === '["account_id"]' && c.version_column === 'modified_on'),
    answerMentions(/\baccount_id\b/, 'the key account_id'),
  ],
};

function fail(message: string): never {
  throw new Error(`policy: ${message}`);
}
