import OpenAI from 'openai';
import { AppError } from '../../errors.ts';

/**
 * The model endpoint's failures as the domain's error type, decided where the endpoint is called:
 * what a person may read, never the upstream's own error text. Anything else passes through.
 */
export function llmFailure(error: unknown): unknown {
  // APIConnectionError is a kind of APIError: ask the narrower question first.
  if (error instanceof OpenAI.APIConnectionError) {
    return new AppError('unavailable:llm', 'The language model endpoint could not be reached. Try again in a moment; the conversation so far is kept.');
  }
  if (error instanceof OpenAI.APIError) {
    return new AppError('unavailable:llm', `The language model endpoint failed${error.status ? ` (HTTP ${error.status})` : ''}. Try again in a moment; the conversation so far is kept.`);
  }
  return error;
}
