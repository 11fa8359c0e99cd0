import { randomUUID } from 'node:crypto';
import { requireRole } from '../auth/roles.ts';
import type { UIMessage, UIMessageChunk } from 'ai';
import type { Kv } from '../adapters/kv/kv.ts';
import { modelInput, requestStep, runAgent, type AgentDeps, type AgentTurn, type ModelStep, type StepUsage } from '../agent/run-agent.ts';
import type { Llm } from '../agent/llm.ts';
import { toModelMessages } from '../agent/to-model-messages.ts';
import type { Principal } from '../auth/principal.ts';
import type { ChatTurnOutcome, Metrics } from '../observability/metrics.ts';
import { AppError, notFound, toAppError } from '../errors.ts';
import { answerApprovals, settleApprovals, type Resolved } from './chat-approvals.ts';
import type { ChatRepo, ChatRow } from './chat-repo.ts';
import { writeChunks, type ChunkWriter } from './chunk-writer.ts';
import type { TurnLog } from './turn-log.ts';
import { TurnSaver } from './turn-saver.ts';

/** What turns chat on: said by a refused POST and by GET /v1/chat/status. */
export const LLM_HINT = 'Set OPENAI_API_KEY (plus OPENAI_BASE_URL for any other OpenAI-compatible endpoint, and OPENAI_MODEL), then restart. REST and MCP work without it.';

export interface ChatRequest {
  id: string;
  messages: UIMessage[];
  trigger?: string;
}

export interface ChatDeps extends Omit<AgentDeps, 'llm' | 'model'> {
  llm: Llm | null;
  turns: TurnLog;
  kv: Kv;
  turnTimeoutMs: number;
  metrics: Pick<Metrics, 'chatTurn' | 'tokens'>;
}

/** What a turn starts from, once the chat is claimed for it. */
interface TurnPlan {
  chatId: string;
  turnId: string;
  /** The conversation as the turn starts, the new user message included. */
  history: UIMessage[];
  /** The user message this turn stores first, if it is not stored yet. */
  newUserMessage: UIMessage | null;
  resolved: Resolved[];
  /** Aborts the turn: its model request and running tool. */
  controller: AbortController;
  /** The first model step, already requested (a new chat's first message). */
  firstStep?: ModelStep;
}


/**
 * Chat turns: each POST checks the request, stores what is new, and starts a turn that runs on
 * its own (a dropped client does not stop it) while its chunks go to the turn log, from which
 * the POST's response and any reconnect read.
 */
export class ChatService {
  private readonly deps: ChatDeps;
  /** The turns running in this instance, by id: what a stop request reaches. */
  private readonly running = new Map<string, AbortController>();
  /** One subscription per instance (not per turn) to the stop requests of every instance. */
  private stops: Promise<unknown> | null = null;
  /** Every turn this instance runs, from its start to its end: what a shutdown drains. */
  private readonly ongoing = new Map<Promise<void>, AbortController>();
  /** Set by drain(): no new turns here; the service is shutting down. */
  private draining = false;

  constructor(deps: ChatDeps) {
    this.deps = deps;
  }

  get configured(): boolean {
    return this.deps.llm !== null;
  }

  /** Whether chat is on, and when it is off, what turns it on (the page says so beside the chat). */
  status(): { enabled: boolean; hint: string | null } {
    return { enabled: this.configured, hint: this.configured ? null : LLM_HINT };
  }

  /**
   * Starts a turn; returns its id. Throws before anything is stored when the request is wrong. The
   * new user message is stored as the turn starts (see TurnSaver), not before it; a new chat's
   * first one with the chat itself (see startNewChat).
   */
  async post(principal: Principal, request: ChatRequest): Promise<string> {
    requireRole(principal, 'chat', 'Chatting');
    if (this.draining) throw new AppError('unavailable:shutting_down', 'This instance is shutting down and takes no new chat turns.', { hint: 'Send the message again: another instance (or this one, once it is back) answers it.' });
    const llm = this.deps.llm;
    if (!llm) {
      throw new AppError('unavailable:llm', 'Chat needs a language model endpoint, and none is configured.', {
        hint: LLM_HINT,
      });
    }
    const last = request.messages.at(-1);
    if (!last) throw new AppError('invalid:request', 'messages is empty.', { issues: [{ path: '/messages', message: 'send at least the new user message' }] });
    if (request.trigger === 'regenerate-message') throw new AppError('invalid:request', 'Regenerating a message is not supported here.', { hint: 'Send a new user message instead.' });
    // After the cheap checks (a malformed request costs no turn), before anything is stored or asked.
    await this.deps.domain.limits.checkTokenBudget(principal);
    await this.deps.domain.limits.take(principal, 'chat_turn');
    const firstText = last.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join(' ');
    const title = firstText || 'New chat';

    if (request.messages.length === 1 && last.role === 'user' && !(await this.deps.turns.seen(request.id))) {
      const turnId = await this.startNewChat(principal, llm, request.id, title, last);
      if (turnId) return turnId;
    }

    // Only a user message starts a chat: anything else (answers to approvals) continues one that
    // exists, and a refused request must leave no chat behind.
    const chat = last.role === 'user' ? await this.deps.chats.open(principal, request.id, title) : await this.existingChat(principal, request.id);
    if (!chat) throw notFound('chat', request.id);
    // Claimed only after the ownership check (a 409 would tell someone else the chat exists and is
    // busy), and before anything is stored (a refused message must not join the conversation).
    const turnId = await this.claim(chat.id);

    // The store, not the client, holds the conversation: only a new user message or answers
    // to approvals this server asked for are taken from the request.
    let history: UIMessage[];
    let newUserMessage: UIMessage | null = null;
    let resolved: Resolved[] = [];
    try {
      history = chat.created ? [] : await this.deps.chats.messages(chat.id);
      if (last.role === 'user') {
        if (!history.some((m) => m.id === last.id)) {
          newUserMessage = last;
          history.push(last);
        }
      } else {
        resolved = await settleApprovals(this.deps, principal, chat.id, history, last);
      }
    } catch (error) {
      await this.deps.turns.end(chat.id, turnId); // nothing ran: free the chat
      throw error;
    }

    this.start(principal, llm, { chatId: chat.id, turnId, history, newUserMessage, resolved, controller: new AbortController() });
    return turnId;
  }

  /**
   * A new chat's first message: the model's whole input is in the request, so its request goes out
   * at once, and the chat is written (with the message, in one statement) while the model thinks.
   * Null when the id is taken (someone else's chat, or a client that sends only its last message):
   * the request is then aborted before anything of it is seen or stored, and `post` goes the usual
   * way. A chat with a recent turn is known to exist and does not come here.
   */
  private async startNewChat(principal: Principal, llm: Llm, chatId: string, title: string, first: UIMessage): Promise<string | null> {
    const controller = new AbortController();
    const firstStep = requestStep({ llm: llm.client, model: llm.model }, modelInput(toModelMessages([first])), controller.signal);
    try {
      // The embedded store works on this thread: let the request get on the wire first.
      await new Promise((resolve) => setImmediate(resolve));
      if (!(await this.deps.chats.create(principal, chatId, title, first))) {
        controller.abort(new TurnNotStarted());
        return null;
      }
      // Only a second POST of the same new chat, at the same moment, can hold it: that turn
      // answers this same message, which it reads from the store.
      const turnId = await this.claim(chatId);
      this.start(principal, llm, { chatId, turnId, history: [first], newUserMessage: null, resolved: [], controller, firstStep });
      return turnId;
    } catch (error) {
      controller.abort(new TurnNotStarted());
      throw error;
    }
  }

  private async existingChat(principal: Principal, chatId: string): Promise<(ChatRow & { created: boolean }) | null> {
    const chat = await this.deps.chats.get(principal, chatId);
    return chat && { ...chat, created: false };
  }

  /** Claims the chat for a new turn (see TurnLog.begin); a 409 when one is running. */
  private async claim(chatId: string): Promise<string> {
    const turnId = await this.deps.turns.begin(chatId);
    if (!turnId) {
      throw new AppError('conflict:turn_running', 'A turn is already running in this chat.', { hint: `Follow it at GET /v1/chat/${chatId}/stream, or stop it with POST /v1/chat/${chatId}/stop.` });
    }
    return turnId;
  }

  /** Asks the running turn (in whichever instance runs it) to stop; false when none runs. */
  async stop(principal: Principal, chatId: string): Promise<boolean> {
    requireRole(principal, 'chat', 'Stopping a chat turn');
    if (!(await this.deps.chats.get(principal, chatId))) throw notFound('chat', chatId);
    const turnId = await this.deps.turns.running(chatId);
    if (!turnId) return false;
    // Recorded first: the instance running the turn may not be listening yet (see run).
    await this.deps.turns.requestStop(turnId);
    await this.deps.kv.publish(STOP_CHANNEL, turnId);
    return true;
  }

  /** Runs a turn on its own (nobody awaits it), known to drain() until it ends. */
  private start(principal: Principal, llm: Llm, plan: TurnPlan): void {
    const turn: Promise<void> = this.run(principal, llm, plan).finally(() => this.ongoing.delete(turn));
    this.ongoing.set(turn, plan.controller);
  }

  /**
   * For a shutdown: takes no new turns, lets the running ones finish for up to `ms`, then ends the
   * rest with an `error` chunk saying the client may send again (a model's stream cannot move to
   * another process). Resolves once every turn has ended and written its last chunk.
   */
  async drain(ms: number): Promise<{ running: number; cut: number }> {
    this.draining = true;
    const running = this.ongoing.size;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), ms)));
    const ended = await Promise.race([Promise.all(this.ongoing.keys()).then(() => 'ended' as const), deadline]);
    clearTimeout(timer);
    let cut = 0;
    if (ended === 'deadline') {
      for (const controller of this.ongoing.values()) {
        controller.abort(new ShuttingDown());
        cut++;
      }
      await Promise.all(this.ongoing.keys());
    }
    return { running, cut };
  }

  /** A model step's usage (see relayStep) goes to the user's daily budget; counting must not end the turn. */
  private async countTokens(principal: Principal, chunk: UIMessageChunk): Promise<void> {
    if (chunk.type !== 'message-metadata') return;
    const usage = (chunk.messageMetadata as { step_usage?: StepUsage } | undefined)?.step_usage;
    if (!usage) return;
    this.deps.metrics.tokens(usage.inputTokens ?? 0, usage.outputTokens ?? 0);
    await this.deps.domain.limits.addTokens(principal, (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0)).catch((error: unknown) => this.deps.log.warn({ err: error }, 'could not count the chat tokens'));
  }

  private async run(principal: Principal, llm: Llm, plan: TurnPlan): Promise<void> {
    const { chatId, turnId, history, newUserMessage, resolved, controller, firstStep } = plan;
    const { turns, chats, kv, log } = this.deps;
    // While this lease is renewed the chat is this turn's; if this process dies, it runs out and
    // the next message (through any instance) ends the turn and goes ahead.
    const stopRenewing = turns.keepAlive(turnId);
    const stopTimer = setTimeout(() => controller.abort(new TurnTimeout(this.deps.turnTimeoutMs)), this.deps.turnTimeoutMs);
    await this.listenForStops(kv).catch((error: unknown) => log.error({ err: error, chat_id: chatId, turn_id: turnId }, 'cannot hear stop requests; this turn runs to its end or time limit'));
    this.running.set(turnId, controller);
    // A stop announced between the claim and the subscription above reached nobody; it was
    // recorded before it was announced, so it is seen here or heard through the subscription.
    if (await turns.stopRequested(turnId).catch(() => false)) controller.abort(new StoppedByUser());
    const continuing = history.at(-1)?.role === 'assistant' ? history.at(-1)! : null;
    const messageId = continuing?.id ?? `msg_${randomUUID()}`;
    const saver = new TurnSaver(chats, chatId, log, continuing ?? { id: messageId, role: 'assistant', parts: [] });
    if (newUserMessage) saver.saveUserMessage(newUserMessage, () => controller.abort(new MessageNotStored()));
    const agentDeps: AgentDeps = { ...this.deps, llm: llm.client, model: llm.model };
    let outcome: ChatTurnOutcome = 'error';

    const execute = async (writer: ChunkWriter) => {
      const turn: AgentTurn = { chatId, principal, requestId: turnId, signal: controller.signal, history: [], write: (chunk) => writer.write(chunk) };
      writer.write({ type: 'start', messageId });
      try {
        await answerApprovals(agentDeps, turn, resolved);
        turn.history = toModelMessages(history);
        await runAgent(agentDeps, turn, firstStep);
        writer.write({ type: 'finish' });
        outcome = 'finished';
      } catch (error) {
        if (controller.signal.aborted) {
          const reason = controller.signal.reason;
          log.info({ chat_id: chatId, turn_id: turnId, reason: String(reason?.message ?? reason) }, 'turn stopped');
          if (reason instanceof MessageNotStored) throw reason;
          outcome = abortOutcome(reason);
          // An error, not an abort: useChat shows it, and the client may send the message again.
          if (reason instanceof ShuttingDown) throw reason;
          writer.write({ type: 'abort', reason: reason instanceof TurnTimeout || reason instanceof StoppedByUser ? reason.message : 'stopped' });
          return;
        }
        throw error;
      }
    };

    try {
      await writeChunks(execute, {
        deliver: async (chunk) => {
          await turns.append(turnId, chunk);
          saver.add(chunk);
          await this.countTokens(principal, chunk);
        },
        onError: (error) => {
          log.warn({ err: error, chat_id: chatId, turn_id: turnId }, 'turn failed');
          // The same translation as REST's and the tools'; the model endpoint's failures were
          // translated where it was called (src/adapters/llm/llm-errors.ts).
          return toAppError(error).message;
        },
        // Nobody could see the rest of the turn: stop it rather than run tools unseen.
        onDeliveryError: () => controller.abort(new TurnNotLogged()),
      });
      await saver.finish();
    } catch (error) {
      log.error({ err: error, chat_id: chatId, turn_id: turnId }, 'turn could not be logged');
    } finally {
      clearTimeout(stopTimer);
      this.deps.metrics.chatTurn(outcome);
      this.running.delete(turnId);
      // Nobody awaits a turn: a KV that fails here (Redis gone) is logged, and the chat is freed
      // when the lease, no longer renewed, runs out.
      await turns.end(chatId, turnId).catch((error: unknown) => log.error({ err: error, chat_id: chatId, turn_id: turnId }, 'the end of the turn could not be recorded'));
      stopRenewing();
    }
  }

  /** Subscribes once per instance; a subscription that failed is tried again by the next turn. */
  private listenForStops(kv: Kv): Promise<unknown> {
    this.stops ??= kv.subscribe(STOP_CHANNEL, (id) => this.running.get(id)?.abort(new StoppedByUser())).catch((error: unknown) => {
      this.stops = null;
      throw error;
    });
    return this.stops;
  }
}

const STOP_CHANNEL = 'chat:stop';

function abortOutcome(reason: unknown): ChatTurnOutcome {
  if (reason instanceof TurnTimeout) return 'timed_out';
  if (reason instanceof StoppedByUser) return 'stopped';
  if (reason instanceof ShuttingDown) return 'shutdown';
  if (reason instanceof TurnNotLogged) return 'not_logged';
  return 'error';
}

/** Its message is what the client's `error` chunk says (see drain). */
class ShuttingDown extends AppError {
  constructor() {
    super('unavailable:shutting_down', 'The service is shutting down, so this turn was cut short. Send your message again to retry: another instance (or this one, once it is back) answers it.');
  }
}

class StoppedByUser extends Error {
  override message = 'Stopped by the user.';
}

class MessageNotStored extends AppError {
  constructor() {
    super('unavailable:store', 'Your message could not be saved, so this turn was stopped and nothing of it was kept.', { hint: 'Send the message again in a moment.' });
  }
}

class TurnNotStarted extends Error {
  override message = 'The turn did not start.';
}

class TurnNotLogged extends Error {
  override message = 'The turn log could not be written.';
}

class TurnTimeout extends Error {
  constructor(ms: number) {
    super(`The turn took longer than ${Math.round(ms / 1000)} s and was stopped.`);
  }
}
