import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted OpenAI-compatible chat completions server for tests.
 *
 * Each POST /v1/chat/completions consumes the next step of the script and answers it in the real
 * OpenAI wire format: server-sent `chat.completion.chunk` events ending in `data: [DONE]` when the
 * request asks for `stream: true`, a `chat.completion` object otherwise, and
 * `{"error":{"message","type","param","code"}}` bodies for HTTP errors.
 */
export type ScriptStep =
  /** An assistant text answer, streamed in deltas of `chunkSize` characters (default 8). */
  | { text: string; chunkSize?: number }
  /**
   * Tool calls; `arguments` is the raw JSON text (may be malformed on purpose), streamed in pieces of
   * about 10 characters after a first delta carrying id/type/function.name. `id` defaults to
   * `call_<request number>_<index>`. Optional `text` is streamed before the calls.
   */
  | { toolCalls: Array<{ name: string; arguments: string; id?: string }>; text?: string }
  /**
   * An HTTP error. `body` is the whole response body (a string is sent as-is, anything else as JSON);
   * by default `{"error":{"message","type","param","code"}}` as OpenAI sends for that status.
   */
  | { status: number; body?: unknown; retryAfter?: string }
  /** Send headers and one delta (with `text` as its content, default ''), then never finish until the client aborts. */
  | { hang: true; text?: string }
  /** Decide from the request (e.g. echo the last tool result). */
  | ((request: ChatRequest) => ScriptStep);

export interface ChatRequest {
  model: string;
  /** Request bodies are whatever the client sent. */
  messages: any[];
  tools?: any[];
  stream?: boolean;
  parallel_tool_calls?: boolean;
  [k: string]: unknown;
}

export interface ScriptedLlm {
  /** e.g. http://127.0.0.1:PORT/v1 (what OPENAI_BASE_URL takes). */
  baseUrl: string;
  /** Every POST /v1/chat/completions body received, in order. */
  requests: ChatRequest[];
  /** Every usage object the server sent (non-streamed answers, and streams asking include_usage), in order. */
  reported: Usage[];
  /** How many requests the client aborted (connection closed before the response ended). */
  readonly aborted: number;
  /** Replaces the queue of answers; each request consumes the next step; with none left the answer is HTTP 500 "script exhausted". */
  script(steps: ScriptStep[]): void;
  close(): Promise<void>;
}

type Chunk = Record<string, unknown>;

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

const ARGUMENT_PIECE = 10;

export async function startScriptedLlm(opts: { steps?: ScriptStep[]; tokenDelayMs?: number } = {}): Promise<ScriptedLlm> {
  const tokenDelayMs = opts.tokenDelayMs ?? 0;
  let queue: ScriptStep[] = [...(opts.steps ?? [])];
  const requests: ChatRequest[] = [];
  const reported: Usage[] = [];
  let aborted = 0;
  let closing = false;
  let requestCount = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, errorBody(500, `scripted-llm failed: ${String(error)}`));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendError(res, 404, { error: { message: `Unknown request URL: ${req.method} ${req.url}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
      return;
    }
    let body: ChatRequest;
    try {
      body = JSON.parse(raw) as ChatRequest;
    } catch {
      sendError(res, 400, { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
      return;
    }
    requests.push(body);
    const n = ++requestCount;
    res.setHeader('x-request-id', `req_scripted_${n}`);

    let ended = false;
    const end = () => {
      ended = true;
      res.end();
    };
    res.on('close', () => {
      if (!ended && !closing) aborted++;
    });

    let step = queue.shift();
    try {
      while (typeof step === 'function') step = step(body);
    } catch (error) {
      ended = true;
      sendError(res, 500, errorBody(500, `script step threw: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    if (step === undefined) {
      ended = true;
      sendError(res, 500, { error: { message: 'script exhausted', type: 'server_error', param: null, code: null } });
      return;
    }
    if ('status' in step) {
      if (step.retryAfter !== undefined) res.setHeader('retry-after', step.retryAfter);
      ended = true;
      sendError(res, step.status, step.body === undefined ? errorBody(step.status) : step.body);
      return;
    }

    const id = `chatcmpl-scripted${n}`;
    const created = Math.floor(Date.now() / 1000);
    const model = typeof body.model === 'string' ? body.model : 'scripted';

    if (body.stream !== true) {
      if ('hang' in step) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        return;
      }
      const { text, toolCalls } = normalize(step, n);
      const completion = {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: text ?? null,
              refusal: null,
              ...(toolCalls.length > 0
                ? { tool_calls: toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }
                : {}),
              annotations: [],
            },
            logprobs: null,
            finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
          },
        ],
        usage: report(usage(body, (text ?? '') + toolCalls.map((c) => c.name + c.arguments).join(''))),
      };
      ended = true;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completion));
      return;
    }

    const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const chunk = (delta: Chunk, finish: string | null = null): Chunk => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      ...(includeUsage ? { usage: null } : {}),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = async (data: Chunk | '[DONE]', delay: boolean): Promise<boolean> => {
      if (res.destroyed || closing) return false;
      res.write(`data: ${data === '[DONE]' ? data : JSON.stringify(data)}\n\n`);
      if (delay && tokenDelayMs > 0) await sleep(tokenDelayMs);
      return !res.destroyed && !closing;
    };

    if ('hang' in step) {
      await send(chunk({ role: 'assistant', content: step.text ?? '', refusal: null }), false);
      return; // never ends: the client aborts or close() drops the connection
    }

    const { text, toolCalls, chunkSize } = normalize(step, n);
    const chunks: Chunk[] = [];
    if (text !== undefined) {
      chunks.push(chunk({ role: 'assistant', content: '', refusal: null }));
      for (const piece of pieces(text, chunkSize)) chunks.push(chunk({ content: piece }));
    }
    toolCalls.forEach((call, index) => {
      const header = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
      chunks.push(chunk(chunks.length === 0 ? { role: 'assistant', content: null, tool_calls: [header], refusal: null } : { tool_calls: [header] }));
      for (const piece of pieces(call.arguments, ARGUMENT_PIECE)) chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    });
    chunks.push(chunk({}, toolCalls.length > 0 ? 'tool_calls' : 'stop'));
    if (includeUsage) {
      chunks.push({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [],
        usage: report(usage(body, (text ?? '') + toolCalls.map((c) => c.name + c.arguments).join(''))),
      });
    }
    for (const data of chunks) if (!(await send(data, true))) return;
    if (!(await send('[DONE]', false))) return;
    end();
  }

  function report(u: Usage): Usage {
    reported.push(u);
    return u;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    reported,
    get aborted() {
      return aborted;
    },
    script(steps) {
      queue = [...steps];
    },
    close() {
      closing = true;
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function normalize(step: Exclude<ScriptStep, ((request: ChatRequest) => ScriptStep) | { status: number } | { hang: true }>, n: number) {
  if ('toolCalls' in step) {
    return {
      text: step.text,
      chunkSize: 8,
      toolCalls: step.toolCalls.map((c, i) => ({ id: c.id ?? `call_${n}_${i}`, name: c.name, arguments: c.arguments })),
    };
  }
  return { text: step.text, chunkSize: step.chunkSize ?? 8, toolCalls: [] };
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  const step = Math.max(1, Math.floor(size));
  for (let i = 0; i < text.length; i += step) out.push(text.slice(i, i + step));
  return out;
}

function usage(body: ChatRequest, completion: string): Usage {
  const prompt_tokens = Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
  const completion_tokens = Math.ceil(completion.length / 4);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

function errorBody(status: number, message?: string) {
  if (status === 429) {
    return { error: { message: message ?? 'Rate limit reached for requests (scripted).', type: 'requests', param: null, code: 'rate_limit_exceeded' } };
  }
  if (status >= 500) {
    return { error: { message: message ?? 'The server had an error while processing your request (scripted).', type: 'server_error', param: null, code: null } };
  }
  return { error: { message: message ?? STATUS_CODES[status] ?? `HTTP ${status}`, type: 'invalid_request_error', param: null, code: null } };
}

function sendError(res: ServerResponse, status: number, body: unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
