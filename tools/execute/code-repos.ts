import type { z } from 'zod';
import { compileOutcome } from '../../src/code-repos/code-compile-service.ts';
import type { compileCodeRepository, getCodeCompile } from '../definitions/code-repos.ts';
import type { ToolContext } from '../tool.ts';

type In<T extends { input: z.ZodObject }> = z.infer<T['input']>;

/** How long the tool waits for the outcome before answering that the compile is still running. */
export const COMPILE_TOOL_WAIT_MS = 60_000;

export async function runCompileCodeRepository(input: In<typeof compileCodeRepository>, ctx: ToolContext) {
  const { compile_id } = await ctx.domain.codeRepos.start(ctx.principal, input);
  const row = await ctx.domain.codeRepos.wait(ctx.principal, compile_id, COMPILE_TOOL_WAIT_MS, ctx.signal);
  return {
    ...compileOutcome(row),
    ...(row.status === 'in_progress' ? { hint: `Still compiling; call get_code_compile with compile_id "${compile_id}" in a little while.` } : {}),
  };
}

export async function runGetCodeCompile(input: In<typeof getCodeCompile>, ctx: ToolContext) {
  return compileOutcome(await ctx.domain.codeRepos.get(ctx.principal, input.compile_id));
}
