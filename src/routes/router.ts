import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Principal } from '../auth/principal.ts';
import { AppError } from '../errors.ts';
import { fromZodIssues } from '../issues.ts';
import { STORE_INT_MAX } from '../input-guard.ts';
import type { Logger } from '../logger.ts';

export type AppEnv = { Variables: { principal: Principal; log: Logger; requestId: string } };

/**
 * An OpenAPIHono whose request validation failures become our 400 with a JSON path, what is wrong
 * and what to send, for every route declared on it.
 */
export function createRouter(options: { getPath?: (request: Request) => string } = {}) {
  return new OpenAPIHono<AppEnv>({
    ...options,
    defaultHook: (result) => {
      if (result.success) return;
      const where = result.target === 'json' ? '' : `/${result.target}`;
      const issues = fromZodIssues(result.error.issues, where);
      const subject = result.target === 'json' ? 'request body' : result.target === 'param' ? 'path' : 'query string';
      throw new AppError('invalid:request', `The ${subject} is invalid: ${issues.map((i) => `${i.path || '/'} ${i.message}`).join('; ')}.`, {
        hint: 'Fix each issue listed and send the request again.',
        issues,
      });
    },
  });
}

/** A required JSON request body, with the example a reader of the docs may send as it is (see examples.ts). */
export const jsonBody = <T extends z.ZodType>(schema: T, description: string, example?: unknown) => ({
  body: { content: { 'application/json': { schema, ...(example !== undefined ? { example } : {}) } }, required: true, description },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'not_found:pipeline' }),
      message: z.string(),
      hint: z.string().optional(),
      issues: z
        .array(z.object({ code: z.string().optional(), path: z.string(), message: z.string(), hint: z.string().optional() }))
        .optional(),
    }),
    request_id: z.string().optional(),
  })
  .openapi('Error');

export const errorResponses = {
  400: jsonResponse(errorSchema, 'Invalid request: every problem with its JSON path and a hint'),
  404: jsonResponse(errorSchema, 'Not found'),
  409: jsonResponse(errorSchema, 'Conflict with the current state'),
} as const;

/** Dagster's failures, as its adapter reports them (src/adapters/dagster/dagster-errors.ts). */
export const dagsterErrorResponses = {
  502: jsonResponse(errorSchema, "upstream:dagster: Dagster answered with an error; the message is Dagster's own (trimmed)"),
  503: jsonResponse(errorSchema, 'unavailable:dagster: no Dagster webserver answered'),
} as const;

/** A stored version number: at least 1, and no larger than the store's integer column holds. */
export const versionNumber = () => z.number().int().min(1).max(STORE_INT_MAX);

/** `?version=N`: which stored version (the current one when absent). */
export const versionQuery = z.object({ version: z.coerce.number().int().min(1).max(STORE_INT_MAX).optional() });

export const uuidParam = <K extends string>(name: K) =>
  z.object({ [name]: z.uuid({ message: 'must be a UUID' }).openapi({ param: { name, in: 'path' } }) } as Record<K, z.ZodUUID>);
