import OpenAI from 'openai';
import { nodeHttpFetch } from '../adapters/llm/node-http-fetch.ts';
import type { Config } from '../config.ts';

export interface Llm {
  client: OpenAI;
  model: string;
}

// One fetch (and its keep-alive pools) for every client this process makes.
const fetchOverNodeHttp = nodeHttpFetch();

/**
 * An OpenAI-compatible endpoint as the chat uses it. The client retries 408, 409, 429 and 5xx
 * answers with exponential backoff, honouring retry-after; the turn's own timeout bounds it.
 */
export function createLlm(opts: { apiKey: string; baseURL?: string; model: string; maxRetries?: number; timeoutMs?: number }): Llm {
  return {
    client: new OpenAI({
      apiKey: opts.apiKey,
      ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
      maxRetries: opts.maxRetries ?? 3,
      timeout: opts.timeoutMs ?? 120_000,
      fetch: fetchOverNodeHttp,
    }),
    model: opts.model,
  };
}

/** The configured endpoint, or null when no key is set (chat then answers 503). */
export function llmFromConfig(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_MODEL'>): Llm | null {
  if (!config.OPENAI_API_KEY) return null;
  return createLlm({ apiKey: config.OPENAI_API_KEY, ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}), model: config.OPENAI_MODEL });
}
