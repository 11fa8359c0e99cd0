import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DefaultChatTransport, type UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTurn, textOf, until, user } from '../chat/helpers.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { removeOnExit, spawnServer, type ServerProcess } from '../support/server-processes.ts';

// The real server, as `npm start` runs it, stopped with SIGTERM while two chat turns run: one that
// ends before the drain deadline and one (a model that never finishes) that does not.

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const DRAIN_SECONDS = 3;

describe('graceful shutdown (SIGTERM to the Node server)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'constellation-shutdown-'));
  const release = removeOnExit(dataDir, () => rmSync(dataDir, { recursive: true, force: true }));
  let llm: ScriptedLlm;
  let server: ServerProcess;
  let base = '';
  const logs: Array<Record<string, any>> = [];
  let exit: Promise<number | null>;

  beforeAll(async () => {
    // 8 deltas 150 ms apart: the short turn is still streaming when the signal comes.
    llm = await startScriptedLlm({ tokenDelayMs: 150 });
    server = spawnServer(NODE, [join(ROOT, 'src/server.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        DATA_DIR: dataDir,
        PORT: '0',
        DAGSTER_GRAPHQL_URL: 'none',
        DEPLOY_WORKERS: '0',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        OPENAI_API_KEY: 'test',
        OPENAI_BASE_URL: llm.baseUrl,
        OPENAI_MODEL: 'scripted',
        SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exit = new Promise((resolve) => server.child.once('exit', (code) => resolve(code)));
    let stderr = '';
    server.child.stderr!.on('data', (chunk) => {
      stderr += String(chunk);
      const lines = stderr.split('\n');
      stderr = lines.pop()!;
      for (const line of lines.filter(Boolean)) logs.push(JSON.parse(line));
    });
    let stdout = '';
    server.child.stdout!.on('data', (chunk) => (stdout += String(chunk)));
    await until(() => {
      if (server.failure()) throw server.failure();
      return /listening on (http:\/\/\S+)/.test(stdout);
    }, 'the server to listen', 60_000);
    base = /listening on (http:\/\/\S+)/.exec(stdout)![1]!;
  }, 70_000);

  afterAll(async () => {
    await server.stop();
    await llm.close();
    release();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const transport = new DefaultChatTransport<UIMessage>({ api: '', prepareSendMessagesRequest: ({ id, messages }) => ({ api: `${base}/v1/chat`, body: { id, messages } }) });
  const send = (chatId: string, text: string) => transport.sendMessages({ chatId, messages: [user(`${chatId}-u`, text)], trigger: 'submit-message', messageId: undefined, abortSignal: undefined });

  it('stops accepting, lets a short turn finish, ends a longer one with a retry error, logs each step and exits 0', async () => {
    llm.script([{ hang: true, text: 'Thinking' }, { text: 'A short answer, slowly.', chunkSize: 3 }]);
    const long = readTurn(await send('long', 'take your time'));
    await until(() => llm.requests.length === 1, 'the long turn to ask the model');
    const short = readTurn(await send('short', 'be quick'));
    await until(() => llm.requests.length === 2, 'the short turn to ask the model');
    let shortEnded = false;
    void short.then(() => (shortEnded = true));

    server.child.kill('SIGTERM');
    await until(() => logs.some((l) => l.msg === 'shutdown: not ready, and no new connections are accepted'), 'the first shutdown step');
    // A new connection is refused now, while both turns still stream on theirs.
    await expect(connectTo(base)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(shortEnded).toBe(false); // it was still running when the shutdown began

    const shortTurn = await short;
    expect(shortTurn.error).toBeUndefined();
    expect(textOf(shortTurn.message)).toBe('A short answer, slowly.');
    expect(shortTurn.chunks.at(-1)).toEqual({ type: 'finish' });

    // Read by the ai package's own reader: the turn ends with an `error` chunk that says to send again.
    const longTurn = await long;
    expect(textOf(longTurn.message)).toBe('Thinking');
    expect(longTurn.chunks.at(-1)).toEqual({ type: 'error', errorText: expect.stringMatching(/shutting down.*Send your message again/) });
    expect(String(longTurn.error)).toMatch(/shutting down/);

    expect(await exit).toBe(0);
    const steps = logs.filter((l) => String(l.msg).startsWith('shutdown:'));
    expect(steps.map((l) => l.msg)).toEqual([
      'shutdown: not ready, and no new connections are accepted',
      'shutdown: chat turns drained; those past the deadline were ended with a retry error',
      'shutdown: MCP sessions closed',
      'shutdown: connections closed',
      'shutdown: deploy worker closed',
      'shutdown: code repository checks closed',
      'shutdown: store closed',
      'shutdown: KV closed',
      'shutdown: done',
    ]);
    expect(steps[0]).toMatchObject({ signal: 'SIGTERM' });
    expect(steps[1]).toMatchObject({ running: 2, cut: 1, drain_seconds: DRAIN_SECONDS });
    // The cut turn's model request was aborted, not left to run on.
    await until(() => llm.aborted === 1, 'the model request to be aborted');
  }, 60_000);
});

/** Opens (and closes) a TCP connection to the URL's host and port. */
function connectTo(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
