import { answerMentions, blocks, compiles, deployed, schedule } from '../graders.ts';
import { deployedFlagship, ENVIRONMENT } from '../harness.ts';
import { call, react, resultOf } from '../policy.ts';
import type { Scenario } from '../scenario.ts';

/** An edit of a pipeline already deployed, over two turns: "which pipelines?", then "make it hourly". */
export const editHourly: Scenario = {
  name: 'edit-hourly',
  messages: ['Which pipelines do I have?', 'Make it hourly.'],
  setup: deployedFlagship,
  policy: () => [
    // Turn 1: list, then say what there is.
    call('list_pipelines'),
    react((req) => {
      const { pipelines } = resultOf<{ pipelines: Array<{ name: string; current_version: number }> }>(req, 'list_pipelines');
      return { text: `You have ${pipelines.length} pipeline${pipelines.length === 1 ? '' : 's'}: ${pipelines.map((p) => `"${p.name}" (version ${p.current_version})`).join(', ')}.` };
    }),
    // Turn 2: "it" is the pipeline named in turn 1; read its spec to find the schedule to change.
    react((req) => call('get_pipeline', { pipeline_id: resultOf(req, 'list_pipelines').pipelines[0].pipeline_id })),
    react((req) => {
      const p = resultOf(req, 'get_pipeline');
      const index = (p.spec.schedules as Array<{ cron: string }>).findIndex((s) => s.cron);
      if (index < 0) throw new Error('policy: the pipeline has no schedule');
      return call('edit_pipeline', { pipeline_id: p.pipeline_id, patch: [{ op: 'replace', path: `/schedules/${index}/cron`, value: '0 * * * *' }], base_version: p.current_version });
    }),
    react((req) => call('deploy_pipeline', { pipeline_id: resultOf(req, 'edit_pipeline').pipeline_id, environment: ENVIRONMENT, dry_run: false, wait: true })),
    react((req) => {
      const edited = resultOf(req, 'edit_pipeline');
      const d = resultOf(req, 'deploy_pipeline');
      return { text: `Done: "${edited.name}" now runs hourly (cron "0 * * * *") as version ${edited.version}, and that version is ${d.status} in ${d.environment}.` };
    }),
  ],
  graders: [compiles(), blocks('postgres_incremental_extract@1', 'clickhouse_replacing_merge_tree_load@1'), schedule('0 * * * *'), deployed(), answerMentions(/hourly|every hour|0 \* \* \* \*/i, 'hourly')],
};
