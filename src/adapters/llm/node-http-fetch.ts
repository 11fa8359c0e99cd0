import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/**
 * The `fetch` the LLM client is given: one HTTP request over node:http(s) with keep-alive, and a
 * small answer object holding the Node stream as its body.
 *
 * Why not the global fetch: a chat turn holds its model stream open for as long as the model
 * talks, and with undici's fetch one open streamed completion costs ~68 KB of heap (the ~13 KB
 * request body is kept alive beside the response, and the body is a chain of web streams), against
 * ~4 KB here — measured in `npm run bench` ("memory per open chat stream"). The openai client reads
 * only what `UpstreamResponse` has: `ok`, `status`, `headers`, `url`, `body` (iterated, or
 * cancelled through its async iterator) and `text()`/`json()`/`arrayBuffer()`; the chat tests run
 * every turn through it against a real HTTP server.
 */
export function nodeHttpFetch(): typeof fetch {
  const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };
  return ((input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const agent = agents[url.protocol as keyof typeof agents];
    if (!agent) return Promise.reject(new TypeError(`nodeHttpFetch: unsupported protocol ${url.protocol} (use http: or https:)`));
    const body = init.body ?? null;
    if (body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      return Promise.reject(new TypeError('nodeHttpFetch: only string or Uint8Array request bodies are supported'));
    }
    return send(url, agent, init.method ?? 'GET', headerObject(init.headers), body, init.signal ?? undefined);
  }) as typeof fetch;
}

// A function of its own so that its listeners do not keep `init` alive.
function send(url: URL, agent: HttpAgent, method: string, headers: Record<string, string>, body: string | Uint8Array | null, signal: AbortSignal | undefined): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, agent });
    let response: UpstreamResponse | null = null;
    request.once('response', (res) => {
      response = new UpstreamResponse(url.href, res);
      resolve(response as unknown as Response);
    });
    request.once('error', reject);
    if (signal) {
      // A listener of our own rather than http.request's `signal` option, which adds a dozen
      // closures per request (held for as long as the model streams).
      const onAbort = () => {
        const error = abortError(signal);
        request.destroy(error);
        response?.destroy(error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      request.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    request.end(body ?? undefined);
    // The closures above outlive the request's sending; the body (~13 KB) must not.
    body = null;
  });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error && signal.reason.name === 'AbortError' ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

function headerObject(init: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((value, key) => (out[key] = value));
  return out;
}

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress };

/** What the openai client reads of a fetch Response, over a Node response stream. */
class UpstreamResponse {
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers = new Headers();
  /** The body's bytes; stopping early (`return()`) keeps the connection when the answer is all in. */
  readonly body: AsyncGenerator<Uint8Array>;
  private readonly res: IncomingMessage;
  private readonly stream: Readable;

  constructor(url: string, res: IncomingMessage) {
    this.url = url;
    this.res = res;
    this.status = res.statusCode ?? 0;
    this.statusText = res.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    for (let i = 0; i < res.rawHeaders.length; i += 2) this.headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
    const decode = DECODERS[this.headers.get('content-encoding')?.trim().toLowerCase() ?? ''];
    this.stream = decode ? (res.pipe(decode()) as unknown as Readable) : res;
    if (decode) res.once('error', (error) => this.stream.destroy(error));
    this.body = this.chunks();
  }

  destroy(error: Error): void {
    this.stream.destroy(error);
    if (this.stream !== this.res) this.res.destroy(error);
  }

  private async *chunks(): AsyncGenerator<Uint8Array> {
    try {
      yield* this.stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;
    } finally {
      // The model's stream ends with `data: [DONE]`, and the client stops reading there, a few bytes
      // before the HTTP response ends: destroying it then would close the connection, and the next
      // step's request would open a new one (a TLS handshake, against a real endpoint). An answer
      // that is all in is read to its end instead; one still coming is cut off.
      if (!this.stream.readableEnded) {
        if (this.res.complete) this.stream.resume();
        else this.destroy(new DOMException('The response body was not read to its end', 'AbortError'));
      }
    }
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.body) chunks.push(chunk);
    const all = Buffer.concat(chunks);
    return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.arrayBuffer());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}
