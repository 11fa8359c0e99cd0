import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as documents from '../../src/adapters/dagster/documents.ts';

// The schema printed by the pinned dagster-graphql (scripts/dagster-schema.sh writes it).
const schema = buildSchema(readFileSync(new URL('../../src/adapters/dagster/schema.graphql', import.meta.url), 'utf8'));

describe('Dagster GraphQL documents', () => {
  it.each(Object.entries(documents).filter(([, v]) => typeof v === 'string' && /^(query|mutation)/.test(v)))('%s is valid against the pinned schema', (_name, text) => {
    const errors = validate(schema, parse(text as string));
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it('would catch a field Dagster does not have', () => {
    expect(validate(schema, parse('query { runsOrError { ... on Runs { results { runId colour } } } }')).length).toBeGreaterThan(0);
  });
});
