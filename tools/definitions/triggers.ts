import { z } from 'zod';
import type { ToolDefinition } from '../tool.ts';
import { environment, pipelineId } from './shared.ts';

/** What pausing or resuming answers, on every surface (the REST route shows the same). */
export const triggerStatesView = z.object({
  pipeline_id: z.uuid(),
  paused: z.boolean(),
  environments: z.array(
    z.object({
      environment: z.string(),
      applied: z.boolean().describe('Dagster was told now; false: recorded, and the next deploy applies it'),
      message: z.string(),
      triggers: z.array(z.object({ kind: z.enum(['schedule', 'sensor']), name: z.string().describe("The trigger's name in Dagster"), status: z.string().describe('RUNNING or STOPPED, as Dagster reports it') })),
    }),
  ),
});

export const setTriggerState = {
  name: 'set_trigger_state',
  title: 'Pause or resume schedules and sensors',
  description:
    "Pause (state \"paused\") or resume (state \"running\") all schedules and sensors of a deployed pipeline, without deleting or redeploying it; its jobs can still be launched by hand. The state is kept across redeploys until changed again. Applies to the given environment, or to every environment the pipeline is deployed to.",
  group: 'deploy',
  input: z.object({
    pipeline_id: pipelineId,
    state: z.enum(['paused', 'running']).describe('"paused" stops every schedule and sensor; "running" starts them again'),
    environment: environment.optional().describe('One environment; every environment the pipeline is deployed to when omitted'),
  }),
  output: triggerStatesView,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  needsApproval: false,
  untrustedOutput: false,
} satisfies ToolDefinition;
