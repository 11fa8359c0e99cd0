import { z } from 'zod';
import { AppError } from '../errors.ts';
import { fromZodIssues } from '../issues.ts';

/** RFC 6902 operations, checked before they touch a spec. */
const pointer = z.string().regex(/^(\/.*)?$/, 'must be a JSON Pointer such as "/blocks/0/config/table"');

export const jsonPatchOpSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), path: pointer, value: z.unknown() }).strict(),
  z.object({ op: z.literal('replace'), path: pointer, value: z.unknown() }).strict(),
  z.object({ op: z.literal('test'), path: pointer, value: z.unknown() }).strict(),
  z.object({ op: z.literal('remove'), path: pointer }).strict(),
  z.object({ op: z.literal('move'), from: pointer, path: pointer }).strict(),
  z.object({ op: z.literal('copy'), from: pointer, path: pointer }).strict(),
]);
export const jsonPatchSchema = z.array(jsonPatchOpSchema).min(1).max(1000);

export type JsonPatchOp = z.infer<typeof jsonPatchOpSchema>;

export function toJsonPatchOps(ops: unknown): JsonPatchOp[] {
  const parsed = jsonPatchSchema.safeParse(ops);
  if (parsed.success) return parsed.data;
  throw new AppError('invalid:patch', 'The JSON patch is malformed.', {
    hint: 'Send an array of RFC 6902 operations, e.g. [{"op": "replace", "path": "/blocks/0/config/batch_size", "value": 500}].',
    issues: fromZodIssues(parsed.error.issues),
  });
}
