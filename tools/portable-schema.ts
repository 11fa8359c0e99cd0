type Schema = Record<string, unknown>;

/**
 * zod's exporter writes two spellings that clients mapping tool schemas onto narrower dialects
 * (Gemini's OpenAPI subset, OpenAPI 3.0) handle badly, and that the MCP Inspector reports as
 * portability warnings on every tools/list:
 * - `{}` for "anything" (`z.unknown()`, and `additionalProperties` of `z.record(z.string(),
 *   z.unknown())` or a loose object), a schema that says nothing;
 * - `type: ["string", "null"]` for a nullable primitive.
 * This rewrites them with the same meaning: `additionalProperties: true`, an `anyOf` of every
 * JSON type for "any value", and an `anyOf` of single-type branches for a type list.
 */
export function portableSchema(node: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (SCHEMA_MAPS.has(key) && isRecord(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, subschema(sub)]));
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map(subschema);
    } else if (BOOLEAN_ALLOWED.has(key) && isRecord(value) && isEmpty(value)) {
      out[key] = true;
    } else if (SCHEMA_VALUES.has(key) && isRecord(value)) {
      out[key] = subschema(value);
    } else {
      out[key] = value;
    }
  }
  return Array.isArray(out.type) ? splitTypeList(out) : out;
}

/** The JSON value types, one branch each: what "any value" is when it must be said. */
const ANY_VALUE: Schema[] = ['string', 'number', 'boolean', 'object', 'array', 'null'].map((type) => ({ type }));

function subschema(value: unknown): unknown {
  if (!isRecord(value)) return value;
  // Only annotations (a description, a title) and nothing that constrains: any JSON value.
  if (!Object.keys(value).some((key) => !ANNOTATIONS.has(key))) return { ...value, anyOf: ANY_VALUE };
  return portableSchema(value);
}

function splitTypeList(node: Schema): Schema {
  const { type, anyOf, ...rest } = node;
  const branches = (type as string[]).map((t) => ({ type: t }));
  // An existing anyOf must hold as well: both go under allOf rather than one replacing the other.
  if (anyOf) return { ...rest, allOf: [...((rest.allOf as Schema[] | undefined) ?? []), { anyOf }, { anyOf: branches }] };
  return { ...rest, anyOf: branches };
}

const isRecord = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const isEmpty = (value: Schema) => Object.keys(value).length === 0;

// Where JSON Schema (2020-12) nests schemas, by shape of the keyword's value.
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions']);
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const SCHEMA_VALUES = new Set(['items', 'additionalProperties', 'unevaluatedProperties', 'propertyNames', 'contains', 'not', 'if', 'then', 'else']);
// Keywords where `true` is the portable way to say "anything" (clients expect booleans there).
const BOOLEAN_ALLOWED = new Set(['additionalProperties', 'unevaluatedProperties']);
const ANNOTATIONS = new Set(['description', 'title', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$comment']);
