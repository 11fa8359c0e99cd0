// npm run bench: every figure beside the baseline it was measured against, in one run.
import { openDb } from '../../src/adapters/store/open-db.ts';
import { ensureLocalPrincipal } from '../../src/auth/principal.ts';
import { catalogBench } from './catalog-bench.ts';
import { chatBench } from './chat-bench.ts';
import { deployBench } from './deploy-bench.ts';
import { mcpBench } from './mcp-bench.ts';
import { printTable } from './measure.ts';

async function main() {
  const db = await openDb({});
  await ensureLocalPrincipal(db);
  // MCP first: it opens its own store, and runs before the 10,000-type catalog fills the heap.
  const mcp = await mcpBench();
  // Chat next, in its own store too; its memory figure is a difference, but GC pauses are not.
  const chat = await chatBench();
  const rows = [...(await catalogBench(db)), ...mcp, ...chat, ...(await deployBench(db))];
  await db.close();
  process.stdout.write(`Store: PGlite in memory. Node ${process.version}, ${new Date().toISOString()}\n${printTable(rows)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
