import type { ChatRequest, ScriptStep } from '../test/support/scripted-llm.ts';
import { TOOLS } from '../tools/index.ts';
import { openAiFunction } from '../tools/json-schema.ts';

/**
 * Helpers for scripted model policies: a tool call written the way a model in OpenAI strict mode
 * writes it, and the results of earlier calls read back from the request, as a model reads them.
 */

const STRICT = new Map(TOOLS.map((tool) => [tool.name, openAiFunction(tool).parameters.properties as Record<string, { type?: unknown }>]));

/**
 * Arguments in strict-mode shape: every property present (null when not wanted), and free-form
 * fields (a spec, a patch) as JSON strings, because that is all strict mode lets a model send.
 */
export function strictArguments(name: string, args: Record<string, unknown>): Record<string, unknown> {
  const properties = STRICT.get(name);
  if (!properties) throw new Error(`policy: there is no tool named ${name}`);
  const unknown = Object.keys(args).filter((k) => !(k in properties));
  if (unknown.length) throw new Error(`policy: ${name} has no argument ${unknown.join(', ')}`);
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(properties)) {
    const value = args[key];
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    out[key] = value === undefined ? null : value !== null && typeof value === 'object' && types.includes('string') && !types.includes('object') && !types.includes('array') ? JSON.stringify(value) : value;
  }
  return out;
}

/** One tool call, optionally with text before it. */
export function call(name: string, args: Record<string, unknown> = {}, text?: string): ScriptStep {
  return { toolCalls: [{ name, arguments: JSON.stringify(strictArguments(name, args)) }], ...(text ? { text } : {}) };
}

/** A tool result as the model reads it, without the untrusted-data fence around it. */
export function unfence(text: string): string {
  const match = /<untrusted-data-([0-9a-f]+)>\n([\s\S]*)\n<\/untrusted-data-\1>/.exec(text);
  return match ? match[2]! : text;
}

/**
 * The parsed result of the last call of `tool` the model made in this conversation (any turn), as
 * the request carries it. Throws (the scripted server then answers 500, failing the turn) when
 * there is none or it is an error: a scripted policy only knows the happy path.
 */
export function resultOf<T = any>(request: ChatRequest, tool: string): T {
  const all = resultsOf<T>(request, tool);
  if (all.length === 0) throw new Error(`policy: no ${tool} result in the request`);
  return all.at(-1)!;
}

/** Every result of `tool` in the conversation, oldest first, parsed; throws on an error result. */
export function resultsOf<T = any>(request: ChatRequest, tool: string): T[] {
  const ids = new Set<string>();
  for (const m of request.messages) {
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) if (c.function?.name === tool) ids.add(c.id);
  }
  return request.messages
    .filter((m) => m.role === 'tool' && ids.has(m.tool_call_id))
    .map((m) => {
      const text = unfence(String(m.content));
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`policy: ${tool} did not succeed: ${text.slice(0, 300)}`);
      }
    });
}

/** The arguments of the last call of `tool` in the request, parsed (free-form fields stay strings). */
export function argumentsOf(request: ChatRequest, tool: string): Record<string, unknown> {
  const calls = request.messages.flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []) : [])).filter((c: any) => c.function?.name === tool);
  const last = calls.at(-1);
  if (!last) throw new Error(`policy: no ${tool} call in the request`);
  return JSON.parse(last.function.arguments) as Record<string, unknown>;
}

/** The last user message's text. */
export function lastUserText(request: ChatRequest): string {
  const user = [...request.messages].reverse().find((m) => m.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}

/** A step decided from the request. */
export const react = (decide: (request: ChatRequest) => ScriptStep): ScriptStep => decide;

/** The ref ("slug@version") of block type `slug` among the results of every catalog search so far; throws when none found it. */
export function searchedRef(request: ChatRequest, slug: string): string {
  const results = resultsOf<{ results: Array<{ block_type: { ref: string } }> }>(request, 'search_block_types').flatMap((r) => r.results);
  const hit = results.find((r) => r.block_type.ref.startsWith(`${slug}@`));
  if (!hit) throw new Error(`policy: no search found ${slug}: ${results.map((r) => r.block_type.ref).join(', ')}`);
  return hit.block_type.ref;
}

/** The step after validate_pipeline: save the spec just validated, as sent (already a JSON string); throws when it was invalid. */
export const proposeValidated = (): ScriptStep =>
  react((request) => {
    const report = resultOf<{ valid: boolean; errors: unknown[] }>(request, 'validate_pipeline');
    if (!report.valid) throw new Error(`policy: the spec is invalid: ${JSON.stringify(report.errors)}`);
    return call('propose_pipeline', { spec: argumentsOf(request, 'validate_pipeline').spec });
  });
