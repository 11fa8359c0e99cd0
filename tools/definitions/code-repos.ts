import { z } from 'zod';
import { READ_ONLY, type ToolDefinition } from '../tool.ts';

/** A compile's outcome, as GET /dagster/compile/{compile_id} shows it (compileOutcome). */
const compileOutcome = z.object({
  compile_id: z.uuid(),
  status: z.enum(['in_progress', 'completed', 'failed']).describe('completed: at least one block type registered, or nothing changed; failed: nothing usable'),
  repo_url: z.string(),
  branch: z.string(),
  commit: z.string().nullable(),
  registered: z.array(z.string()).describe('Block type refs this compile added, e.g. "etl_blocks__greeting_rows@2"'),
  errors: z
    .array(z.object({ file: z.string().optional(), path: z.string().optional(), block: z.string().optional(), message: z.string(), hint: z.string().optional() }))
    .describe('Every problem found, each naming the file, field or block'),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  hint: z.string().optional().describe('While still in progress: how to follow it'),
});

export const compileCodeRepository = {
  name: 'compile_code_repository',
  title: 'Compile a code repository',
  description:
    'Register the block types of a git repository in the org\'s catalog: blocks/<name>.json manifests (the catalog\'s manifest schema without "version"; python.callable "module:function" relative to python/; compiles_to "asset"), python/ code, optional requirements.txt. Good ones become "<namespace>__<name>@<version>" (a new version only when the manifest or code changed); every problem is listed with its file and field. Waits up to a minute for the outcome; if still running, follow it with get_code_compile.',
  group: 'catalog',
  input: z.object({
    repo_url: z.string().min(1).max(2048).describe('The repository\'s https URL, e.g. "https://github.com/acme/etl-blocks.git"'),
    branch: z.string().min(1).max(255).describe('The branch to compile, e.g. "main"'),
  }),
  output: compileOutcome,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  needsApproval: false,
  // Manifests, file names and Python's error messages are the repository author's words.
  untrustedOutput: true,
} satisfies ToolDefinition;

export const getCodeCompile = {
  name: 'get_code_compile',
  title: 'Get a code repository compile',
  description: 'The outcome of a compile_code_repository call: in_progress, completed or failed, the block types it registered and every error (file, field, block, message, hint).',
  group: 'catalog',
  input: z.object({ compile_id: z.uuid().describe('The compile_id compile_code_repository returned') }),
  output: compileOutcome,
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;
