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
  | 'not_implemented'
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
  internal: 500,
  not_implemented: 501,
  unavailable: 503,
};

export class AppError extends Error {
  override name = 'AppError';
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly issues: Issue[];

  constructor(code: `${ErrorKind}:${string}` | ErrorKind, message: string, opts: { hint?: string; issues?: Issue[] } = {}) {
    super(message);
    this.code = code;
    this.kind = code.split(':')[0] as ErrorKind;
    this.hint = opts.hint;
    this.issues = opts.issues ?? [];
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
