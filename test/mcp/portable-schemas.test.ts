import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { portableSchema } from '../../tools/portable-schema.ts';
import { mcpClient } from '../support/surfaces.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// The tool schemas a client lists carry none of the spellings the MCP Inspector reports as
// unportable (`{}` meaning "anything", `type: [T, "null"]`), and say what zod's export said.

type Schema = Record<string, unknown>;

const MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions']);
const DATA = new Set(['default', 'examples', 'const', 'enum']);

/** Every place in the schema `node` that is unportable (an empty schema, a list of types), as a path. */
function unportable(node: unknown, path: string, found: string[]): string[] {
  if (Array.isArray(node)) node.forEach((item, i) => unportable(item, `${path}/${i}`, found));
  else if (node !== null && typeof node === 'object') {
    const schema = node as Schema;
    if (Object.keys(schema).length === 0) found.push(path);
    if (Array.isArray(schema.type)) found.push(`${path}/type`);
    for (const [key, value] of Object.entries(schema)) {
      if (DATA.has(key)) continue;
      // A map of names to schemas may be empty (an object with no properties); its entries may not.
      if (MAPS.has(key)) for (const [name, sub] of Object.entries(value as Schema)) unportable(sub, `${path}/${key}/${name}`, found);
      else unportable(value, `${path}/${key}`, found);
    }
  }
  return found;
}

describe('tool schemas, as an MCP client lists them', () => {
  let t: TestApp;
  let mcp: Awaited<ReturnType<typeof mcpClient>>;
  beforeAll(async () => {
    t = await createTestApp('pglite');
    mcp = await mcpClient(t);
  });
  afterAll(async () => {
    await mcp.close();
    await t.close();
  });

  it('have no empty subschema and no list of types, in any input or output schema', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.length).toBeGreaterThanOrEqual(17);
    const found = tools.flatMap((tool) => [...unportable(tool.inputSchema, `${tool.name}.inputSchema`, []), ...unportable(tool.outputSchema, `${tool.name}.outputSchema`, [])]);
    expect(found).toEqual([]);
    // The free-form ones are still free-form: a spec's extra fields and a patch's value of any type.
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect((byName.get('propose_pipeline')!.inputSchema.properties as any).spec.additionalProperties).toBe(true);
    const patchValue = (byName.get('edit_pipeline')!.inputSchema.properties as any).patch.items.oneOf[0].properties.value;
    expect(patchValue.anyOf.map((branch: Schema) => branch.type)).toEqual(['string', 'number', 'boolean', 'object', 'array', 'null']);
  });
});

describe('portableSchema', () => {
  const ajv = new Ajv2020({ strict: false });
  const values = ['text', '', 0, 2.5, true, null, [], [1, 'a'], {}, { a: 1 }, { a: { b: null } }, 'draft'];
  const schemas = {
    'a record of anything': z.record(z.string(), z.unknown()),
    'any value, described': z.unknown().describe('anything'),
    'a nullable string': z.string().min(1).nullable(),
    'a nullable enum': z.enum(['draft', 'live']).nullable(),
    'an object with a nullable number and free-form extras': z.looseObject({ n: z.number().int().nullable(), v: z.unknown() }),
    'a union with a nullable member': z.union([z.array(z.string().nullable()), z.number()]),
  };

  it.each(Object.entries(schemas))('accepts exactly what zod’s export accepts: %s', (_name, schema) => {
    const { $schema: _ignored, ...exported } = z.toJSONSchema(schema) as Schema;
    const portable = portableSchema(exported);
    expect(unportable(portable, '', [])).toEqual([]);
    const before = ajv.compile(exported);
    const after = ajv.compile(portable);
    const probes = [...values, ...values.map((a) => ({ n: a, v: a })), ...values.map((a) => [a])];
    for (const value of probes) expect(after(value), JSON.stringify(value)).toBe(before(value));
  });
});
