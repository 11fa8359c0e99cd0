import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceInstance } from '../support/service-instances.ts';
import { holdStream } from './chat-bench.ts';
import type { HeapReading } from './heap-probe.ts';

/*
 * Memory per open chat stream in a service process: `streams` chat turns held open (the model
 * sends one token and then nothing), the process's live memory (heapUsed + external after a full
 * GC, read through heap-probe.ts) while they are open minus before, per stream. The turns are
 * then stopped and their streams read to their end, so the next round starts from the same state.
 */

let round = 0;

/** A full GC in the instance, then its memory: the reading answering this signal, not an older one. */
async function liveBytes(instance: ServiceInstance, heapDir: string): Promise<number> {
  const file = join(heapDir, `heap-${instance.pid}.json`);
  const last = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as HeapReading).seq : 0;
  process.kill(instance.pid, 'SIGUSR2');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const reading = JSON.parse(readFileSync(file, 'utf8')) as HeapReading;
      if (reading.seq > last) return reading.heapUsed + reading.external;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`load bench: the instance (pid ${instance.pid}) wrote no heap reading within 30 s; is heap-probe.ts loaded (NODE_OPTIONS) and BENCH_HEAP_DIR set?`);
}

/** One round: KB of live memory per open stream. The model must be hanging every request. */
export async function memoryPerOpenStream(instance: ServiceInstance, heapDir: string, streams: number): Promise<number> {
  const ids = Array.from({ length: streams }, (_, i) => `held-${process.pid}-${round}-${i}`);
  round++;
  const before = await liveBytes(instance, heapDir);
  const held = ids.map((id) => holdStream(instance.url, id));
  const opened = await Promise.allSettled(held.map((h) => h.streaming));
  const failed = opened.filter((o) => o.status === 'rejected');
  let kb = NaN;
  try {
    if (failed.length) throw new Error(`load bench: ${failed.length} of ${streams} chat streams did not open: ${(failed[0] as PromiseRejectedResult).reason}`);
    kb = ((await liveBytes(instance, heapDir)) - before) / streams / 1024;
  } finally {
    // Only the turns that run can be stopped; the others' answers have ended already.
    const running = ids.filter((_, i) => opened[i]!.status === 'fulfilled');
    for (let i = 0; i < running.length; i += 50) {
      const answers = await Promise.all(running.slice(i, i + 50).map(async (id) => (await fetch(`${instance.url}/v1/chat/${id}/stop`, { method: 'POST', headers: { 'content-type': 'application/json' } })).json() as Promise<{ stopped?: boolean }>));
      if (answers.some((a) => a.stopped !== true) && !failed.length) throw new Error(`load bench: a held turn was not running when stopped: ${JSON.stringify(answers.find((a) => a.stopped !== true))}`);
    }
    await Promise.all(held.map((h) => h.ended));
  }
  return kb;
}
