import { AppError } from '../../errors.ts';

/**
 * Dagster's failures, as the domain's error type. The adapter that met them decides what they
 * mean, so REST, MCP and chat all report the same code, message and hint.
 */

/** No webserver answered: refused at once, or timed out or a 5xx without a GraphQL answer after retries. */
export class DagsterUnavailableError extends AppError {
  override name = 'DagsterUnavailableError';

  constructor(url: string, problem: string, attempts: number) {
    super('unavailable:dagster', `No Dagster webserver answers at ${url} (${problem} after ${attempts} ${attempts === 1 ? 'try' : 'tries'})`, {
      hint: "Check that the environment's Dagster webserver is running (npm run dagster for development).",
    });
  }
}

/**
 * Dagster answered, with an error: a PythonError, another error type of a union, or a GraphQL
 * error. Its own message is the news; retrying would only repeat it.
 */
export class DagsterGraphqlError extends AppError {
  override name = 'DagsterGraphqlError';

  constructor(message: string, hint = "This is Dagster's own message: fix what it names (an environment variable it reads must be set where Dagster's processes run) and try again.") {
    super('upstream:dagster', message, { hint });
  }
}

const MAX_MESSAGE = 1500;

/**
 * A Dagster error message as a client may read it: without the stack traces Dagster inlines for
 * nested errors (they name files on the server), without Python module paths before class names,
 * on one line, and bounded.
 */
export function dagsterMessage(raw: string): string {
  const kept: string[] = [];
  let inStack = false;
  for (const line of raw.split('\n')) {
    if (line.trim() === 'Stack Trace:') {
      inStack = true;
      continue;
    }
    // A traceback's lines are indented and end at the first blank line.
    if (inStack) {
      if (line.trim() === '') inStack = false;
      continue;
    }
    if (line.trim()) kept.push(line.trim());
  }
  const text = kept.join(' ').replace(/\b(?:[a-z_][a-z0-9_]*\.)+([A-Z]\w*(?:Error|Exception))\b/g, '$1');
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/** A union result that is not the one asked for (PythonError, RunConfigValidationInvalid, …). */
export interface DagsterFailure {
  __typename: string;
  message?: string;
  errors?: Array<{ message: string }>;
}

/** The error for a union answer that is a failure: `doing` says what Dagster did not do. */
export function dagsterRefusal(result: DagsterFailure, doing: string, hint?: string): DagsterGraphqlError {
  const detail = result.errors?.length ? result.errors.map((e) => e.message).join('; ') : (result.message ?? result.__typename);
  return new DagsterGraphqlError(`${doing}: ${dagsterMessage(detail)}`, hint);
}
