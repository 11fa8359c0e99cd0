import { AppError, type ErrorKind, type Issue } from './errors.ts';
import { toPointer } from './issues.ts';

/**
 * What the store cannot hold, refused at every entrance (REST bodies, paths and queries, MCP tool
 * arguments and resource URIs, chat messages) before zod, JSON.stringify or Postgres see it:
 * - U+0000, which Postgres text and jsonb refuse;
 * - an unpaired UTF-16 surrogate (half a character), which is not valid UTF-8 at all;
 * - nesting deeper than MAX_DEPTH, which overflows every recursive walk after this one
 *   (JSON.stringify, zod, structuredClone). The walk here keeps its own stack, so it cannot.
 * Integers beyond the store's int4 columns are refused by the schemas of the fields that reach
 * them, with STORE_INT_MAX.
 */
export const MAX_DEPTH = 64;

/** The largest value of a Postgres integer (int4) column: versions and counts are stored as one. */
export const STORE_INT_MAX = 2_147_483_647;

/** More issues than this say nothing new; a body full of NULs gets the first few. */
const MAX_ISSUES = 10;

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | null;
  key: string | number | null;
}

/** Every place in `value` the store cannot hold, each with its JSON pointer (under `basePath`). */
export function findUnstorable(value: unknown, basePath = ''): Issue[] {
  const issues: Issue[] = [];
  const stack: Frame[] = [{ value, depth: 0, parent: null, key: null }];
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const frame = stack.pop()!;
    const { value: v } = frame;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) issues.push({ ...problem, path: basePath + pointerOf(frame) });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (frame.depth >= MAX_DEPTH) {
      issues.push({
        code: 'too_deep',
        path: basePath + pointerOf(frame),
        message: `is nested more than ${MAX_DEPTH} levels deep`,
        hint: `Flatten this value: objects and arrays may nest at most ${MAX_DEPTH} levels.`,
      });
      continue;
    }
    const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((item, i) => [i, item]) : Object.entries(v);
    // Pushed in reverse so issues come out in document order.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      const childFrame = { value: child, depth: frame.depth + 1, parent: frame, key };
      if (typeof key === 'string') {
        const problem = textProblem(key);
        if (problem) issues.push({ ...problem, path: basePath + pointerOf(childFrame), message: `has a key that ${problem.message}` });
      }
      stack.push(childFrame);
    }
  }
  return issues.slice(0, MAX_ISSUES);
}

/**
 * The refusal for `value`, or null when the store can hold it. `subject` starts the message
 * ("The request body"), `code` is the caller's stable code for bad input.
 */
export function unstorableError(value: unknown, subject: string, code: `${ErrorKind}:${string}` = 'invalid:request', basePath = ''): AppError | null {
  const issues = findUnstorable(value, basePath);
  if (issues.length === 0) return null;
  return new AppError(code, `${subject} cannot be accepted: ${issues.map((i) => `${i.path || '/'} ${i.message}`).join('; ')}.`, {
    hint: 'Fix each issue listed and send it again.',
    issues,
  });
}

/** Throws the refusal for `value`, if any (for code paths that throw rather than answer). */
export function assertStorable(value: unknown, subject: string, code?: `${ErrorKind}:${string}`, basePath?: string): void {
  const error = unstorableError(value, subject, code, basePath);
  if (error) throw error;
}

function textProblem(text: string): Omit<Issue, 'path'> | null {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    return {
      code: 'nul_character',
      message: `contains a NUL character (U+0000) at position ${nul}, which cannot be stored`,
      hint: 'Remove the NUL character (\\u0000) from this text.',
    };
  }
  const lone = LONE_SURROGATE.exec(text);
  if (lone) {
    return {
      code: 'lone_surrogate',
      message: `contains an unpaired UTF-16 surrogate (\\u${text.charCodeAt(lone.index).toString(16)}) at position ${lone.index}: half of a character, which cannot be stored`,
      hint: 'Send whole characters: \\ud800-\\udbff must be followed by \\udc00-\\udfff, which must follow one. Remove or complete it.',
    };
  }
  return null;
}

/** A high surrogate with no low one after it, or a low one with no high one before it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function pointerOf(frame: Frame): string {
  const keys: Array<string | number> = [];
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) keys.push(f.key);
  return toPointer(keys.reverse());
}
