import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Loaded into a service process under the bench (NODE_OPTIONS="--expose-gc --import=…/heap-probe.ts"):
 * on SIGUSR2 it runs a full GC and writes the process's memory to $BENCH_HEAP_DIR/heap-<pid>.json,
 * so the bench reads live memory in another process without the garbage a heap sample would hold.
 * A sequence number tells the bench which signal a file answers; the rename makes each write whole.
 */

export interface HeapReading {
  seq: number;
  heapUsed: number;
  external: number;
  rss: number;
}

const dir = process.env.BENCH_HEAP_DIR;
const gc = (globalThis as { gc?: () => void }).gc;
if (dir && gc) {
  let seq = 0;
  const file = join(dir, `heap-${process.pid}.json`);
  process.on('SIGUSR2', async () => {
    seq++;
    // A few rounds, turns of the event loop between: what is freed after one (finalizers, weak refs) goes in the next.
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    const { heapUsed, external, rss } = process.memoryUsage();
    const reading: HeapReading = { seq, heapUsed, external, rss };
    writeFileSync(`${file}.tmp`, JSON.stringify(reading));
    renameSync(`${file}.tmp`, file);
  });
}
