import type { z } from 'zod';
import type { Issue } from './errors.ts';

/** ["blocks", 2, "config"] → "/blocks/2/config" (RFC 6901). */
export function toPointer(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Rewrites zod's issues for a model or a person: where, what is wrong, and what to send instead.
 * Used for request bodies and pipeline specs alike.
 */
export function fromZodIssues(issues: ReadonlyArray<z.core.$ZodIssue>, basePath = ''): Issue[] {
  return issues.flatMap((issue): Issue | Issue[] => {
    const path = basePath + toPointer(issue.path);
    const field = issue.path.length ? `"${String(issue.path[issue.path.length - 1])}"` : 'the body';
    switch (issue.code) {
      case 'invalid_type': {
        const missing = (issue as { input?: unknown }).input === undefined && issue.message.includes('received undefined');
        return missing
          ? { code: 'missing_field', path, message: `${field} is required`, hint: `Send ${field} as ${article(issue.expected)}.` }
          : { code: 'wrong_type', path, message: issue.message, hint: `Send ${field} as ${article(issue.expected)}.` };
      }
      case 'unrecognized_keys':
        // One issue per field, at the field itself, as config errors are reported.
        return issue.keys.map((key) => ({
          code: 'unknown_field',
          path: `${path}${toPointer([key])}`,
          message: `unknown field "${key}"`,
          hint: 'Remove it; /openapi.json lists the fields each request accepts.',
        }));
      case 'invalid_value':
        return {
          code: 'invalid_value',
          path,
          message: issue.message,
          hint: `Use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}.`,
        };
      default:
        return { code: 'invalid_value', path, message: issue.message, hint: hintFor(issue) };
    }
  });
}

function article(type: string): string {
  if (type === 'array' || type === 'object' || type === 'integer') return `an ${type}`;
  return `a ${type}`;
}

function hintFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return `Send at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}.`;
    case 'too_big':
      return `Send at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}.`;
    case 'invalid_format':
      return issue.format === 'regex' ? 'Match the pattern given in the message.' : `Send a valid ${issue.format}.`;
    case 'invalid_union':
      return 'The value matches none of the accepted shapes; see /openapi.json.';
    default:
      return 'See /openapi.json for the accepted shape.';
  }
}
