import { z } from 'zod';

/**
 * Models send arguments loosely: `null` for an optional field, an object or array serialised as
 * a JSON string, or the whole arguments object as a string. Accept those before validating, at
 * the top level of the tool's input, where they happen.
 */
export function normalizeArgs(schema: z.ZodObject, raw: unknown): unknown {
  let args = raw;
  if (typeof args === 'string') args = tryJson(args) ?? args;
  if (args === null || args === undefined) return {};
  if (typeof args !== 'object' || Array.isArray(args)) return args;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    const field = schema.shape[key] as z.ZodType | undefined;
    if (value === null && field && acceptsUndefined(field)) continue;
    if (typeof value === 'string' && field && wantsStructure(field)) {
      const parsed = tryJson(value);
      out[key] = parsed !== undefined && typeof parsed === 'object' ? parsed : value;
      continue;
    }
    out[key] = value;
  }
  return out;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const acceptsUndefined = (field: z.ZodType) => field.safeParse(undefined).success;

function wantsStructure(field: z.ZodType): boolean {
  let inner: z.ZodType = field;
  // Unwrap optional/default/nullable to the type that decides.
  while ('unwrap' in inner && typeof (inner as { unwrap?: unknown }).unwrap === 'function' && !(inner instanceof z.ZodArray)) {
    inner = (inner as unknown as { unwrap(): z.ZodType }).unwrap();
  }
  return inner instanceof z.ZodObject || inner instanceof z.ZodRecord || inner instanceof z.ZodArray;
}
