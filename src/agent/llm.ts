import OpenAI from 'openai';
import type { Config } from '../config.ts';

/**
 * The chat's model endpoint: any OpenAI-compatible server. The client retries 408, 409, 429 and
 * 5xx answers with exponential backoff, honouring retry-after; the turn's own timeout bounds it.
 */
export function llmFromConfig(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_MODEL'>): { client: OpenAI; model: string } | null {
  if (!config.OPENAI_API_KEY) return null;
  return {
    client: new OpenAI({ apiKey: config.OPENAI_API_KEY, ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}), maxRetries: 3, timeout: 120_000 }),
    model: config.OPENAI_MODEL,
  };
}
