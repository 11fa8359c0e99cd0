import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The one error type the service throws on purpose. `code` is stable (clients and models branch
 * on it); `message` and `hint` are safe to show; `issues` lists every problem with its JSON path.
 */
export type ErrorKind =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'not_implemented'
  | 'upstream'
  | 'unavailable'
  | 'internal';

export interface Issue {
  /** Stable kind of problem, e.g. "unknown_block_type", "cycle", "invalid_cron". */
  code?: string;
  /** JSON Pointer into the request body or spec, e.g. "/blocks/2/config/table". */
  path: string;
  message: string;
  hint?: string;
}

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal: 500,
  not_implemented: 501,
  // A system we depend on answered, with an error (Dagster's PythonError): its message is the news.
  upstream: 502,
  unavailable: 503,
};

export class AppError extends Error {
  override name = 'AppError';
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly issues: Issue[];
  /** HTTP headers the answer carries (Retry-After on a 429, WWW-Authenticate on a 401). */
  readonly headers: Record<string, string>;

  constructor(code: `${ErrorKind}:${string}` | ErrorKind, message: string, opts: { hint?: string; issues?: Issue[]; headers?: Record<string, string> } = {}) {
    super(message);
    this.code = code;
    this.kind = code.split(':')[0] as ErrorKind;
    this.hint = opts.hint;
    this.issues = opts.issues ?? [];
    this.headers = opts.headers ?? {};
  }

  get status(): ContentfulStatusCode {
    return STATUS[this.kind];
  }

  /** What a client may see. Never a stack trace or an upstream body. */
  toBody(requestId?: string) {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.hint ? { hint: this.hint } : {}),
        ...(this.issues.length ? { issues: this.issues } : {}),
      },
      ...(requestId ? { request_id: requestId } : {}),
    };
  }
}

export const notFound = (what: string, id: string) =>
  new AppError(`not_found:${what}`, `No ${what.replace(/_/g, ' ')} with id "${id}" exists here.`, {
    hint: `Check the id; list ${what.replace(/_/g, ' ')}s to see the ones you can use.`,
  });

/**
 * The one translation from anything thrown to what a caller sees, shared by REST (app.onError),
 * tools (MCP and chat, through runTool) and the chat turn. Adapters already throw AppErrors that
 * say what went wrong (a Dagster outage, Dagster's own error, the model endpoint failing); the
 * framework's refusals are the client's; anything else is ours, said without its message or stack.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 400 && /json/i.test(err.message)) {
      return new AppError('invalid:json', 'The request body is not valid JSON.', { hint: 'Check quotes, commas and brackets; send Content-Type: application/json.' });
    }
    if (err.status === 413) return new AppError('payload_too_large', 'The request body is too large.');
    // @hono/zod-openapi's media type gate answers a non-JSON body this way; it is the client's
    // mistake, not ours (without this it became a 500).
    if (err.status === 415) {
      return new AppError('unsupported_media_type', 'This API takes JSON bodies.', { hint: 'Send the body as JSON with the header Content-Type: application/json.' });
    }
    // Any other refusal by the framework is still the client's; keep its status class.
    if (err.status === 404) return new AppError('not_found:route', 'Nothing is served here.', { hint: 'GET /openapi.json lists every route.' });
    if (err.status >= 400 && err.status < 500) return new AppError('invalid:request', 'The request was refused.', { hint: 'GET /openapi.json describes what each route accepts.' });
  }
  return new AppError('internal', INTERNAL_MESSAGE);
}

export const INTERNAL_MESSAGE = 'Something went wrong on our side; our logs have the details.';
