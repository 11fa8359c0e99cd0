import { AppError } from '../errors.ts';
import type { Environment } from './environments.ts';

import type { Principal } from '../auth/principal.ts';
import { roleOf } from '../auth/roles.ts';
import { DEFAULT_DEPLOY_ROLES } from './environments.ts';

/** Who asks: a model's tool call is held to an environment's policy, a person's request is not. */
export type Caller = 'model' | 'person';

/** Where a call came in: a REST request, an MCP client's tool call, a chat turn's tool call, the CLI. */
export type Surface = 'rest' | 'mcp' | 'chat' | 'cli';

/**
 * A tool call (MCP or chat) is a model's; so is anything done with an agent's key, whatever the
 * surface, so that an assistant calling REST with a key from its config gains nothing.
 */
export function callerOf(principal: Principal, surface: Surface): Caller {
  return surface === 'mcp' || surface === 'chat' || principal.kind === 'agent' ? 'model' : 'person';
}

/** Whether a deploy to this environment waits for a person's yes. */
export function deployNeedsApproval(env: Environment | undefined, by: Caller): boolean {
  return by === 'model' && (env?.policy.approval_required_for_model_deploys ?? false);
}

/**
 * Refuses a destructive action (deleting a pipeline, stopping a run) that a model asked for where
 * an environment's policy forbids it. `what` says what is refused; `hint` what a person can do.
 */
export function refuseDestructive(by: Caller, environments: Array<Environment | undefined>, what: string, hint: string): void {
  if (by !== 'model') return;
  const guarded = environments.filter((env): env is Environment => !!env && !env.policy.allow_destructive);
  if (guarded.length === 0) return;
  throw new AppError('forbidden:policy', `${what} is not allowed: ${guarded.map((e) => `"${e.name}"`).join(', ')} ${guarded.length === 1 ? 'has a policy that forbids' : 'have policies that forbid'} destructive tools.`, { hint });
}

/** Refuses a deploy by someone whose role the environment's policy does not let deploy. */
export function requireDeployRole(principal: Principal, env: Environment): void {
  const allowed = env.policy.deploy_roles ?? DEFAULT_DEPLOY_ROLES;
  const role = roleOf(principal);
  if (allowed.includes(role)) return;
  throw new AppError('forbidden:role', `Deploying to "${env.name}" needs one of the roles ${allowed.join(', ')}; you are a ${role} in this org.`, {
    hint: 'Ask an admin of your org for one of those roles, or deploy to another environment.',
  });
}

/** The call a deploy's approval is bound to, the same whichever surface asks. */
export function deployCall(pipelineId: string, environment: string | undefined, version: number | undefined) {
  return { action: 'deploy', args: { pipeline_id: pipelineId, environment: environment ?? null, version: version ?? null } };
}
