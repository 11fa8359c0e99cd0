// npm run bench: every figure beside the baseline it was measured against, in one run.
// `npm run bench -- chat mcp` runs only the sections named (catalog, mcp, chat, deploy, shards, seed004, load).
import { availableParallelism, loadavg } from 'node:os';
import { openDb } from '../../src/adapters/store/open-db.ts';
import { ensureLocalPrincipal } from '../../src/auth/principal.ts';
import { catalogBench } from './catalog-bench.ts';
import { chatBench } from './chat-bench.ts';
import { deployBench } from './deploy-bench.ts';
import { loadBench } from './load-bench.ts';
import { mcpBench } from './mcp-bench.ts';
import { printTable, type Row } from './measure.ts';
import { seed004Bench } from './seed004-bench.ts';
import { shardsBench } from './shards-bench.ts';

const SECTIONS = ['catalog', 'mcp', 'chat', 'deploy', 'shards', 'seed004', 'load'] as const;

async function main() {
  // Before the bench adds its own: how busy the machine already was (other jobs on shared cores).
  const loadBefore = loadavg();
  const asked = process.argv.slice(2);
  const unknown = asked.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`bench: no section named ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')}`);
  const runs = (section: (typeof SECTIONS)[number]) => asked.length === 0 || asked.includes(section);
  const db = await openDb({});
  await ensureLocalPrincipal(db);
  // MCP first: it opens its own store, and runs before the 10,000-type catalog fills the heap.
  const mcp = runs('mcp') ? await mcpBench() : [];
  // Chat next, in its own store too; its memory figure is a difference, but GC pauses are not.
  const chat = runs('chat') ? await chatBench() : [];
  // Load in service processes of its own, on a throwaway Postgres and Redis: nothing here is shared.
  const load = runs('load') ? await loadBench() : { rows: [], failure: null };
  const rows: Row[] = [
    ...(runs('catalog') ? await catalogBench(db) : []),
    ...mcp,
    ...chat,
    ...(runs('deploy') ? await deployBench(db) : []),
    ...(runs('shards') ? await shardsBench(db) : []),
    ...(runs('seed004') ? await seed004Bench(db) : []),
    ...load.rows,
  ];
  await db.close();
  const stores = `Store: PGlite in memory${runs('load') ? ' (load: service processes on a throwaway Postgres and redis-server)' : ''}`;
  const machine = `${availableParallelism()} cores, load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before the run`;
  process.stdout.write(`${stores}. Node ${process.version}, ${machine}, ${new Date().toISOString()}\n${printTable(rows)}\n`);
  // After the table, so the figures are there to read, but the run fails: figures with errors are no result.
  if (load.failure) throw new Error(load.failure);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
