import type { UIMessage } from 'ai';
import { createLlm } from '../src/agent/llm.ts';
import type { StepUsage } from '../src/agent/run-agent.ts';
import { startScriptedLlm, type ScriptStep } from '../test/support/scripted-llm.ts';
import type { Grader, SetupRecord } from './graders.ts';
import { sourceStandIn, type SourceTable } from './source-stand-in.ts';
import { sendMessage, startHarness, textOf, userMessage, type Harness, type Llm, type TurnResult } from './harness.ts';

/** One thing a user asks of the agent, and how to tell whether it was done. */
export interface Scenario {
  name: string;
  /** The user's messages, one turn each, in order. */
  messages: string[];
  /** What exists before the conversation (e.g. a deployed pipeline); its record feeds the graders. */
  setup?: (h: Harness) => Promise<SetupRecord>;
  /** The source table inspect_source shows the model (a stand-in answers it; graders get its calls). */
  source?: SourceTable;
  /** What a good model does, as a scripted model for CI: the steps of every turn, in order. */
  policy: () => ScriptStep[];
  graders: Grader[];
}

export interface ScenarioResult {
  name: string;
  checks: Array<{ grader: string; pass: boolean; detail: string }>;
  passed: number;
  total: number;
  pass: boolean;
  /** A turn's error, or the harness's own. */
  error: string | null;
  answer: string;
  turns: TurnResult[];
  /** Tokens the model's steps used, as the endpoint reported them, summed over every turn. */
  usage: Tokens;
}

export interface Tokens {
  inputTokens: number;
  outputTokens: number;
}

/** The sum of the step usages a turn's stream carried (`message-metadata` chunks, see runAgent). */
export function tokensOf(turns: TurnResult[]): Tokens {
  const steps = turns.flatMap((t) => t.chunks).flatMap((c) => (c.type === 'message-metadata' ? [(c.messageMetadata as { step_usage?: StepUsage } | undefined)?.step_usage] : []));
  return steps.reduce<Tokens>((sum, u) => (u ? { inputTokens: sum.inputTokens + u.inputTokens, outputTokens: sum.outputTokens + u.outputTokens } : sum), { inputTokens: 0, outputTokens: 0 });
}

/**
 * Runs a scenario on a fresh service (in-memory PGlite, write-only environment) against a model:
 * 'scripted' plays the scenario's policy (or `opts.policy`) on a scripted OpenAI-compatible
 * server; otherwise the given real model. Then grades what it left behind. A scenario with a
 * `source` gets a stand-in inspection answering from it.
 */
export async function runScenario(scenario: Scenario, model: 'scripted' | Llm, opts: { policy?: ScriptStep[] } = {}): Promise<ScenarioResult> {
  const scripted = model === 'scripted' ? await startScriptedLlm({ steps: opts.policy ?? scenario.policy() }) : null;
  const llm: Llm = scripted ? createLlm({ apiKey: 'scripted', baseURL: scripted.baseUrl, model: 'scripted', maxRetries: 0 }) : (model as Llm);
  const inspection = scenario.source ? sourceStandIn(scenario.source) : null;
  const h = await startHarness(llm, inspection ? { inspection } : {});
  const turns: TurnResult[] = [];
  let error: string | null = null;
  try {
    const setup = scenario.setup ? await scenario.setup(h) : {};
    const chatId = `eval-${scenario.name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
    let history: UIMessage[] = [];
    for (const [i, text] of scenario.messages.entries()) {
      history = [...history, userMessage(`u${i + 1}`, text)];
      const turn = await sendMessage(h.app, chatId, history);
      turns.push(turn);
      if (turn.message) history = [...history, turn.message];
      error ??= turn.error;
    }
    const answer = textOf(turns.at(-1)?.message);
    const pipelineId = setup.pipelineId ?? (await h.services.pipelines.list(h.principal))[0]?.id ?? null;
    const checks = [];
    for (const grader of scenario.graders) {
      const check = await grader.grade({ services: h.services, principal: h.principal, pipelineId, answer, setup, inspections: inspection?.calls ?? [] }).catch((e: Error) => ({ pass: false, detail: `grader failed: ${e.message}` }));
      checks.push({ grader: grader.name, ...check });
    }
    const passed = checks.filter((c) => c.pass).length;
    return { name: scenario.name, checks, passed, total: checks.length, pass: passed === checks.length, error, answer, turns, usage: tokensOf(turns) };
  } catch (e) {
    error = `harness: ${(e as Error).message}`;
    return { name: scenario.name, checks: [], passed: 0, total: scenario.graders.length, pass: false, error, answer: '', turns, usage: tokensOf(turns) };
  } finally {
    await h.close();
    await scripted?.close();
  }
}

/** The score table: scenario, passed checks / total, pass or fail, input and output tokens, and what failed. */
export function scoreTable(results: ScenarioResult[]): string {
  const rows = results.map((r) => [
    r.name,
    `${r.passed}/${r.total}`,
    r.pass ? 'pass' : 'FAIL',
    String(r.usage.inputTokens),
    String(r.usage.outputTokens),
    [...r.checks.filter((c) => !c.pass).map((c) => `${c.grader}: ${c.detail}`), ...(r.error ? [`error: ${r.error}`] : [])].join('; ').slice(0, 160),
  ]);
  const passed = results.filter((r) => r.pass).length;
  const checks = results.reduce((n, r) => n + r.passed, 0);
  const total = results.reduce((n, r) => n + r.total, 0);
  const input = results.reduce((n, r) => n + r.usage.inputTokens, 0);
  const output = results.reduce((n, r) => n + r.usage.outputTokens, 0);
  rows.push(['total', `${checks}/${total}`, `${passed}/${results.length} scenarios`, String(input), String(output), '']);
  const header = ['scenario', 'checks', 'result', 'input tokens', 'output tokens', 'failed checks'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
