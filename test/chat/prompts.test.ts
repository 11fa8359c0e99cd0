import { describe, expect, it } from 'vitest';
import { PROMPT_VERSION, SYSTEM_PROMPT } from '../../prompts/index.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { pipelineSpecSchema } from '../../src/pipelines/spec-schema.ts';

const manifests = loadManifests();
const bySlug = new Map(manifests.map((m) => [m.slug, m]));

// Changing the prompt's text fails here until the snapshot is updated (vitest -u) and the
// version bumped, both on purpose: a stored turn names the prompt it ran under.
describe('system prompt', () => {
  it('matches its reviewed snapshot', async () => {
    await expect(SYSTEM_PROMPT).toMatchFileSnapshot('__snapshots__/system-prompt.md');
  });

  it('is the version the snapshot was taken at', () => {
    expect(PROMPT_VERSION).toBe('system-v4');
  });

  it('names only tools, tool arguments, block types, config fields and spec fields that exist', async () => {
    const { TOOLS } = await import('../../tools/index.ts');
    const spec = pipelineSpecSchema.shape;
    const names = new Set([
      ...TOOLS.flatMap((t) => [t.name, ...Object.keys(t.input.shape)]),
      ...manifests.flatMap((m) => [m.slug, ...Object.keys(m.config_schema.properties)]),
      ...Object.keys(spec),
      ...[spec.jobs, spec.schedules, spec.sensors].flatMap((list) => Object.keys(list.unwrap().element.shape)),
    ]);
    const mentioned = [...SYSTEM_PROMPT.matchAll(/\b([a-z]+(?:_[a-z]+)+)\b/g)].map((m) => m[1]!);
    expect(mentioned.length).toBeGreaterThan(10);
    expect(mentioned.filter((w) => !names.has(w))).toEqual([]);
  });

  it('says which blocks have "tables" ports as the catalog does, and names every trigger block', () => {
    const line = /"tables" come out of ([\s\S]+?),\s+and go into ([\s\S]+?)\./.exec(SYSTEM_PROMPT);
    expect(line).not.toBeNull();
    const slugs = (text: string) => text.split(/,\s*|\s+and\s+|\s+/).filter((w) => bySlug.has(w));
    const [outOf, into] = [slugs(line![1]!), slugs(line![2]!)];
    expect(outOf.length).toBeGreaterThanOrEqual(3);
    expect(into.length).toBeGreaterThanOrEqual(4);
    for (const slug of outOf) expect(bySlug.get(slug)!.outputs.map((p) => p.type), `${slug} outputs`).toContain('tables');
    for (const slug of into) expect(bySlug.get(slug)!.inputs.map((p) => p.type), `${slug} inputs`).toContain('tables');
    // Every catalog block that makes or takes "tables" is in the sentence.
    const tableBlocks = manifests.filter((m) => m.outputs.some((p) => p.type === 'tables')).map((m) => m.slug);
    expect(outOf.sort()).toEqual(tableBlocks.sort());
    const takes = manifests.filter((m) => m.inputs.some((p) => p.type === 'tables')).map((m) => m.slug);
    expect(into.sort()).toEqual(takes.sort());
    const sensors = manifests.filter((m) => m.compiles_to === 'sensor').map((m) => m.slug);
    expect(sensors.length).toBeGreaterThanOrEqual(3);
    for (const slug of sensors) expect(SYSTEM_PROMPT).toContain(slug);
  });
});
