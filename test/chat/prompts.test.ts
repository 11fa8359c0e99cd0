import { describe, expect, it } from 'vitest';
import { PROMPT_VERSION, SYSTEM_PROMPT } from '../../prompts/index.ts';

// Changing the prompt's text fails here until the snapshot is updated (vitest -u) and the
// version bumped, both on purpose: a stored turn names the prompt it ran under.
describe('system prompt', () => {
  it('matches its reviewed snapshot', async () => {
    await expect(SYSTEM_PROMPT).toMatchFileSnapshot('__snapshots__/system-prompt.md');
  });

  it('is the version the snapshot was taken at', () => {
    expect(PROMPT_VERSION).toBe('system-v1');
  });

  it('names only tools that exist', async () => {
    const { TOOLS } = await import('../../tools/index.ts');
    const names = new Set(TOOLS.map((t) => t.name));
    const mentioned = [...SYSTEM_PROMPT.matchAll(/\b([a-z]+(?:_[a-z]+)+)\b/g)].map((m) => m[1]!).filter((w) => !['dry_run', 'confirmation_token'].includes(w));
    expect(mentioned.length).toBeGreaterThan(5);
    expect(mentioned.filter((w) => !names.has(w))).toEqual([]);
  });
});
