import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { strictArguments } from '../../evals/policy.ts';
import { startScriptedLlm, type ChatRequest, type ScriptStep } from '../support/scripted-llm.ts';

/*
 * The model the load bench's instances talk to: the scripted OpenAI-compatible server in a process
 * of its own (so its work is not the load generator's), answering every request, without end, in
 * one of two ways: a short turn (a block search, then two sentences), or a stream that never ends
 * (for the memory of open streams).
 */

export type ModelMode = 'turn' | 'hang';
type ToModel = { kind: 'mode'; mode: ModelMode } | { kind: 'exit' };
type FromModel = { kind: 'ready'; baseUrl: string } | { kind: 'mode' };

const FLAG = '--load-bench-model';

export const SHORT_ANSWER = 'Two blocks fit: postgres_incremental_extract reads new and changed rows, postgres_table_extract reads the whole table.';
const SEARCH = { toolCalls: [{ name: 'search_block_types', arguments: JSON.stringify(strictArguments('search_block_types', { query: 'postgres extract', limit: 3 })) }] };
const ANSWER: ScriptStep = { text: SHORT_ANSWER, chunkSize: 16 };
const HANG: ScriptStep = { hang: true, text: 'x' };

/** The turn's first request searches; once the search's result is in the messages, it answers. */
const shortTurn = (request: ChatRequest): ScriptStep => (request.messages.some((m) => m.role === 'tool') ? ANSWER : SEARCH);

async function modelProcess(): Promise<void> {
  const llm = await startScriptedLlm();
  let mode: ModelMode = 'turn';
  // The scripted server takes one step per request from a queue: keep it full of the same decision.
  const BATCH = 1000;
  let left = 0;
  const step: ScriptStep = (request) => {
    if (--left < BATCH / 10) refill();
    return mode === 'hang' ? HANG : shortTurn(request);
  };
  const refill = () => {
    llm.script(Array.from({ length: BATCH }, () => step));
    left = BATCH;
  };
  refill();
  const send = (m: FromModel) => process.send!(m);
  process.on('message', async (m: ToModel) => {
    if (m.kind === 'mode') {
      mode = m.mode;
      send({ kind: 'mode' });
    } else if (m.kind === 'exit') {
      await llm.close();
      process.exit(0);
    }
  });
  send({ kind: 'ready', baseUrl: llm.baseUrl });
}

export interface LoadModel {
  baseUrl: string;
  setMode(mode: ModelMode): Promise<void>;
  stop(): Promise<void>;
}

/** Forks the model process; resolves once it listens. */
export async function startLoadModel(): Promise<LoadModel> {
  const proc: ChildProcess = fork(fileURLToPath(import.meta.url), [FLAG], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`load bench: the model process exited (${code})`))));
  exited.catch(() => undefined);
  const next = () => Promise.race([new Promise<FromModel>((resolve) => proc.once('message', resolve)), exited]);
  const ready = await next();
  if (ready.kind !== 'ready') throw new Error('load bench: the model process did not start');
  return {
    baseUrl: ready.baseUrl,
    async setMode(mode) {
      const answered = next();
      proc.send({ kind: 'mode', mode } satisfies ToModel);
      await answered;
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.send({ kind: 'exit' } satisfies ToModel);
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill();
    },
  };
}

if (process.argv.includes(FLAG) && process.send) void modelProcess();
