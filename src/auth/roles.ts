import { AppError } from '../errors.ts';
import { ROLES, type Principal, type Role } from './principal.ts';

/**
 * What each kind of action needs, in one place: reading needs a viewer, changing blocks,
 * pipelines and chats an editor, deploying and running a deployer (an environment's policy may
 * ask for more, see dagster/policy.ts), managing keys and reading the audit log an admin.
 */
export const NEEDED_ROLE = {
  read: 'viewer',
  edit: 'editor',
  chat: 'editor',
  deploy: 'deployer',
  run: 'deployer',
  admin: 'admin',
} as const satisfies Record<string, Role>;

export type Action = keyof typeof NEEDED_ROLE;

/** A principal with no role acts for a stored row's owner (internal callers): it may do anything. */
export function roleOf(principal: Principal): Role {
  return principal.role ?? 'admin';
}

export function hasRole(principal: Principal, needed: Role): boolean {
  return ROLES.indexOf(roleOf(principal)) >= ROLES.indexOf(needed);
}

/** Throws a 403 that names the role needed, unless the principal has it. */
export function requireRole(principal: Principal, action: Action, what: string): void {
  const needed = NEEDED_ROLE[action];
  if (hasRole(principal, needed)) return;
  throw new AppError('forbidden:role', `${what} needs the ${needed} role; you are a ${roleOf(principal)} in this org.`, {
    hint: `Ask an admin of your org for the ${needed} role (npm run key -- create --org <org> --user <you> --role ${needed}).`,
  });
}
