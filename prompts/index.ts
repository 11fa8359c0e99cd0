import { readFileSync } from 'node:fs';
import { fromRoot } from '../src/source-path.ts';

/**
 * The system prompt, a versioned file beside this one. PROMPT_VERSION changes whenever its text
 * does (the snapshot test pins both), so a stored turn can say which prompt it ran under.
 */
export const SYSTEM_PROMPT = readFileSync(fromRoot('prompts/system.md'), 'utf8');
export const PROMPT_VERSION = 'system-v4';
