import { AppError } from '../errors.ts';
import type { Environment } from './environments.ts';

/** Who asks: a model's tool call is held to an environment's policy, a person's request is not. */
export type Caller = 'model' | 'person';

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
