import type { Kv } from '../adapters/kv/kv.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { Principal } from './principal.ts';

/** What is counted per principal, whichever surface it comes from. */
export type LimitedAction = 'chat_turn' | 'tool_call' | 'deploy';

export interface LimitSettings {
  /** Per user per minute; 0 means no limit. */
  chatTurnsPerMinute: number;
  toolCallsPerMinute: number;
  deploysPerMinute: number;
  /** Chat tokens (input + output) per user per UTC day; 0 means no budget. */
  chatDailyTokenBudget: number;
}

export const DEFAULT_LIMITS: LimitSettings = { chatTurnsPerMinute: 30, toolCallsPerMinute: 300, deploysPerMinute: 20, chatDailyTokenBudget: 2_000_000 };

/** Every limit off: for tests and benchmarks that measure something else. */
export const NO_LIMITS: LimitSettings = { chatTurnsPerMinute: 0, toolCallsPerMinute: 0, deploysPerMinute: 0, chatDailyTokenBudget: 0 };

/** The limits the environment sets (RATE_LIMIT_*, CHAT_DAILY_TOKEN_BUDGET). */
export function limitsFromConfig(config: Config): LimitSettings {
  return {
    chatTurnsPerMinute: config.RATE_LIMIT_CHAT_TURNS_PER_MINUTE,
    toolCallsPerMinute: config.RATE_LIMIT_TOOL_CALLS_PER_MINUTE,
    deploysPerMinute: config.RATE_LIMIT_DEPLOYS_PER_MINUTE,
    chatDailyTokenBudget: config.CHAT_DAILY_TOKEN_BUDGET,
  };
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const WHAT: Record<LimitedAction, { noun: string; setting: string }> = {
  chat_turn: { noun: 'chat turns', setting: 'RATE_LIMIT_CHAT_TURNS_PER_MINUTE' },
  tool_call: { noun: 'tool calls', setting: 'RATE_LIMIT_TOOL_CALLS_PER_MINUTE' },
  deploy: { noun: 'deploys', setting: 'RATE_LIMIT_DEPLOYS_PER_MINUTE' },
};

/**
 * Rate limits and the chat's daily token budget, per user, with counters in the KV (so every
 * instance shares them). Windows are fixed and keyed by their start, so the wait a 429 names is
 * exact: the seconds until the window that refused the call is over.
 */
export class Limits {
  private readonly kv: Kv;
  private readonly settings: LimitSettings;
  private readonly now: () => number;

  constructor(kv: Kv, settings: Partial<LimitSettings> = {}, now: () => number = Date.now) {
    this.kv = kv;
    this.settings = { ...DEFAULT_LIMITS, ...settings };
    this.now = now;
  }

  /** Counts one action; a 429 (with retry-after) when this minute's allowance is used up. */
  async take(principal: Principal, action: LimitedAction): Promise<void> {
    const limit = this.perMinute(action);
    if (limit === 0) return;
    const now = this.now();
    const start = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const count = await this.kv.incr(`limit:${action}:${principal.userId}:${start}`, 2 * MINUTE_MS / 1000);
    if (count <= limit) return;
    const { noun, setting } = WHAT[action];
    throw tooMany(`too_many_requests:${action}`, `You have made ${limit} ${noun} this minute, the most allowed`, start + MINUTE_MS - now, `An operator can raise ${setting}.`);
  }

  /** Before a chat turn: a 429 until the next UTC midnight when today's tokens are spent. */
  async checkTokenBudget(principal: Principal): Promise<void> {
    const budget = this.settings.chatDailyTokenBudget;
    if (budget === 0) return;
    const now = this.now();
    const used = Number((await this.kv.get(this.tokenKey(principal, now))) ?? 0);
    if (used < budget) return;
    const nextDay = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
    throw tooMany('too_many_requests:token_budget', `You have used today's chat budget of ${budget} tokens`, nextDay - now, 'It renews at midnight UTC; an operator can raise CHAT_DAILY_TOKEN_BUDGET. REST and MCP are not limited by it.');
  }

  /** Adds a model step's tokens to the user's count for today (UTC). */
  async addTokens(principal: Principal, tokens: number): Promise<void> {
    if (this.settings.chatDailyTokenBudget === 0 || !(tokens > 0)) return;
    await this.kv.incr(this.tokenKey(principal, this.now()), 2 * DAY_MS / 1000, Math.round(tokens));
  }

  private tokenKey(principal: Principal, now: number): string {
    return `tokens:chat:${principal.userId}:${new Date(now).toISOString().slice(0, 10)}`;
  }

  private perMinute(action: LimitedAction): number {
    const s = this.settings;
    return action === 'chat_turn' ? s.chatTurnsPerMinute : action === 'tool_call' ? s.toolCallsPerMinute : s.deploysPerMinute;
  }
}

function tooMany(code: `too_many_requests:${string}`, what: string, waitMs: number, hint: string): AppError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new AppError(code, `${what}; try again in ${seconds} s.`, { hint, headers: { 'retry-after': String(seconds) } });
}
