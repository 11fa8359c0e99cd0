import { answerGivesStatus, noNewDeployment, noNewVersion } from '../graders.ts';
import { deployedFlagship } from '../harness.ts';
import { call, react, resultOf } from '../policy.ts';
import type { Scenario } from '../scenario.ts';

/** A question: how did the last run go? Answered from pipeline_status, changing nothing. */
export const lastRun: Scenario = {
  name: 'last-run',
  messages: ['How did the last run of my customers pipeline go?'],
  setup: deployedFlagship,
  policy: () => [
    call('list_pipelines'),
    react((req) => {
      const { pipelines } = resultOf<{ pipelines: Array<{ pipeline_id: string; name: string }> }>(req, 'list_pipelines');
      const customers = pipelines.find((p) => /customer/i.test(p.name));
      if (!customers) throw new Error('policy: no customers pipeline');
      return call('pipeline_status', { pipeline_id: customers.pipeline_id });
    }),
    react((req) => {
      const s = resultOf(req, 'pipeline_status');
      const text = s.run
        ? `The last run (${s.run.run_id}) is ${s.status}: Dagster says ${s.run.dagster_status}.`
        : `It has not run yet. Its latest deployment, version ${s.deployment?.version} to ${s.deployment?.environment}, is ${s.status}${s.dagster_error ? ` (runs could not be read: ${s.dagster_error})` : ''}.`;
      return { text };
    }),
  ],
  graders: [answerGivesStatus(), noNewVersion(), noNewDeployment()],
};
