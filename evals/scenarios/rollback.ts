import { answerMentions, noNewVersion, rolledBackTo } from '../graders.ts';
import { deploy, deployedFlagship, ENVIRONMENT } from '../harness.ts';
import { call, react, resultOf } from '../policy.ts';
import type { Scenario } from '../scenario.ts';

/** A rollback: version 2 (hourly) is live; go back to version 1 by deploying it, not by editing. */
export const rollback: Scenario = {
  name: 'rollback',
  messages: ['The last change to the customers pipeline was a mistake. Roll it back to the previous version.'],
  async setup(h) {
    const { pipelineId } = await deployedFlagship(h);
    await h.services.pipelines.patch(h.principal, pipelineId, [{ op: 'replace', path: '/schedules/0/cron', value: '0 * * * *' }]);
    await deploy(h, pipelineId);
    return { pipelineId, version: 2, deployments: 2 };
  },
  policy: () => [
    call('list_pipelines'),
    react((req) => call('get_pipeline', { pipeline_id: resultOf(req, 'list_pipelines').pipelines.find((p: { name: string }) => /customer/i.test(p.name)).pipeline_id })),
    react((req) => {
      const p = resultOf(req, 'get_pipeline');
      if (p.current_version < 2) throw new Error('policy: nothing to roll back to');
      return call('deploy_pipeline', { pipeline_id: p.pipeline_id, environment: ENVIRONMENT, version: p.current_version - 1, dry_run: false, wait: true });
    }),
    react((req) => {
      const d = resultOf(req, 'deploy_pipeline');
      return { text: `Rolled back: version ${d.version} is ${d.status} in ${d.environment} again. The newer version stays stored if you want it back.` };
    }),
  ],
  graders: [rolledBackTo(1), noNewVersion(), answerMentions(/version 1\b|v1\b/i, 'version 1')],
};
