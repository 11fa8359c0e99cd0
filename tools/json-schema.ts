import { z } from 'zod';
import { portableSchema } from './portable-schema.ts';
import type { ToolDefinition } from './tool.ts';

type Schema = Record<string, unknown>;

/** zod 4's own export of a tool's arguments, before any rewriting. */
const exportedInput = (tool: ToolDefinition): Schema => clean(z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as Schema);

/** The JSON Schema an MCP client sees for a tool's arguments, in its portable spelling. */
export const inputJsonSchema = (tool: ToolDefinition): Schema => portableSchema(exportedInput(tool));

/** The JSON Schema its structured result follows, in the same spelling. */
export const outputJsonSchema = (tool: ToolDefinition): Schema => portableSchema(clean(z.toJSONSchema(tool.output, { io: 'output', unrepresentable: 'any' }) as Schema));

function clean(schema: Schema): Schema {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

// Keywords OpenAI's strict mode does not take; their meaning stays in descriptions and is enforced
// when the call is validated against the zod schema.
const DROPPED = ['default', 'examples', '$schema', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems', 'uniqueItems', 'pattern', 'format'];

/**
 * An OpenAI function definition in strict mode from the same zod schema: every property
 * required, optional ones nullable, no extra properties. A field that strict mode cannot describe
 * (free-form objects such as a pipeline spec or a patch value) is asked for as a JSON string,
 * which the tool runner parses back.
 */
export function openAiFunction(tool: ToolDefinition) {
  // From zod's own export: OpenAI's strict mode documents `type: [T, "null"]` for nullable fields,
  // and "anything" there becomes a JSON string below either way.
  const input = exportedInput(tool);
  const properties = (input.properties ?? {}) as Record<string, Schema>;
  const required = new Set((input.required as string[] | undefined) ?? []);
  const strictProps: Record<string, Schema> = {};
  for (const [key, prop] of Object.entries(properties)) {
    const said = String(prop.description ?? '').replace(/([^.])$/, '$1.');
    const strict = toStrict(prop) ?? { type: 'string', description: `${said} Send it as a JSON-encoded string.`.trim() };
    strictProps[key] = required.has(key) ? strict : nullable(strict);
  }
  return {
    type: 'function' as const,
    name: tool.name,
    description: tool.description,
    strict: true,
    parameters: { type: 'object', properties: strictProps, required: Object.keys(strictProps), additionalProperties: false },
  };
}

/** A strict-mode copy of `node`, or null when strict mode cannot express it. */
function toStrict(node: Schema): Schema | null {
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) if (!DROPPED.includes(key)) out[key] = value;
  const union = (node.anyOf ?? node.oneOf) as Schema[] | undefined;
  if (union) {
    const members = union.map(toStrict);
    if (members.some((m) => m === null)) return null;
    delete out.oneOf;
    out.anyOf = members;
    return out;
  }
  if (node.type === 'object' || node.properties) {
    const props = node.properties as Record<string, Schema> | undefined;
    if (!props || (node.additionalProperties !== undefined && node.additionalProperties !== false)) return null;
    const required = new Set((node.required as string[] | undefined) ?? []);
    const strictProps: Record<string, Schema> = {};
    for (const [key, prop] of Object.entries(props)) {
      const strict = toStrict(prop);
      if (!strict) return null;
      strictProps[key] = required.has(key) ? strict : nullable(strict);
    }
    return { ...out, type: 'object', properties: strictProps, required: Object.keys(strictProps), additionalProperties: false };
  }
  if (node.type === 'array') {
    const items = node.items ? toStrict(node.items as Schema) : null;
    return items ? { ...out, items } : null;
  }
  if (node.type === undefined && node.const === undefined && node.enum === undefined) return null; // "anything"
  return out;
}

function nullable(schema: Schema): Schema {
  if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: [...(schema.anyOf as Schema[]), { type: 'null' }] };
  if (typeof schema.type === 'string') {
    const withNull: Schema = { ...schema, type: [schema.type, 'null'] };
    if (Array.isArray(schema.enum)) withNull.enum = [...(schema.enum as unknown[]), null];
    return withNull;
  }
  return { anyOf: [schema, { type: 'null' }] };
}
