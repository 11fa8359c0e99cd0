// npm run eval: every scenario against a real model (OPENAI_API_KEY, with OPENAI_BASE_URL and
// OPENAI_MODEL honoured), each on a fresh in-memory PGlite store and a write-only environment;
// without a key, the scripted policies instead. Prints the score table either way, with the input
// and output tokens each scenario used (the endpoint's usage of every model step, summed).
import { llmFromConfig } from '../src/agent/llm.ts';
import { loadConfig } from '../src/config.ts';
import { runScenario, scoreTable, type ScenarioResult } from './scenario.ts';
import { SCENARIOS } from './scenarios/index.ts';

async function main() {
  const config = loadConfig();
  const llm = llmFromConfig(config);
  const only = process.argv.slice(2);
  const scenarios = only.length ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  if (llm) {
    process.stdout.write(`Model: ${llm.model}${config.OPENAI_BASE_URL ? ` at ${config.OPENAI_BASE_URL}` : ''}\n`);
  } else {
    process.stdout.write('OPENAI_API_KEY is not set: running the scripted policies instead of a real model (set it, plus OPENAI_BASE_URL/OPENAI_MODEL if needed, to evaluate a model).\n');
  }
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const started = performance.now();
    const result = await runScenario(scenario, llm ?? 'scripted');
    results.push(result);
    const { inputTokens, outputTokens } = result.usage;
    process.stderr.write(`${scenario.name}: ${result.passed}/${result.total}, ${inputTokens} input and ${outputTokens} output tokens, in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  process.stdout.write(`${scoreTable(results)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
