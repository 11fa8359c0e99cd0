import { randomUUID } from 'node:crypto';
import type { UIMessageChunk } from 'ai';
import type OpenAI from 'openai';
import { SYSTEM_PROMPT } from '../../prompts/index.ts';
import { llmFailure } from '../adapters/llm/llm-errors.ts';
import type { ApprovalRequests } from '../auth/approval-requests.ts';
import type { Principal } from '../auth/principal.ts';
import type { ChatRepo } from '../chat/chat-repo.ts';
import type { Logger } from '../logger.ts';
import type { Domain } from '../domain.ts';
import { TOOLS } from '../../tools/index.ts';
import { openAiFunction } from '../../tools/json-schema.ts';
import { runTool, type ToolOutcome } from '../../tools/run-tool.ts';
import type { ToolContext } from '../../tools/tool.ts';

type ModelMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

export interface AgentDeps {
  llm: OpenAI;
  model: string;
  domain: Domain;
  chats: ChatRepo;
  approvals: ApprovalRequests;
  log: Logger;
  stepLimit: number;
}

export interface AgentTurn {
  chatId: string;
  principal: Principal;
  requestId: string;
  signal: AbortSignal;
  /** The conversation so far, as the model reads it. */
  history: ModelMessage[];
  write: (chunk: UIMessageChunk) => void;
}

const FUNCTIONS = TOOLS.map((tool) => {
  const fn = openAiFunction(tool);
  return { type: 'function' as const, function: { name: fn.name, description: fn.description, parameters: fn.parameters, strict: true } };
});

// Tool results a person wants to see as a preview beside the chat, not only as a tool call.
const PREVIEWS: Record<string, string> = {
  validate_pipeline: 'data-validation',
  propose_pipeline: 'data-pipeline',
  edit_pipeline: 'data-pipeline',
  compile_pipeline: 'data-compile',
  deploy_pipeline: 'data-deploy',
};

/**
 * The model-and-tools loop for one turn: stream a completion, run the tool it asked for, tell it
 * the result, until it answers without a tool call or the step limit. A tool that needs a
 * person's approval pauses the turn (see ChatService for the resume). `firstStep`: the first
 * step's request, already made for `modelInput(turn.history)`.
 */
export async function runAgent(deps: AgentDeps, turn: AgentTurn, firstStep?: ModelStep): Promise<'done' | 'awaiting_approval' | 'step_limit'> {
  const messages = modelInput(turn.history);
  for (let step = 0; step < deps.stepLimit; step++) {
    turn.write({ type: 'start-step' });
    const { text, calls } = await streamStep(deps, messages, turn, step === 0 ? firstStep : undefined);
    if (calls.length === 0) {
      turn.write({ type: 'finish-step' });
      return 'done';
    }
    messages.push({ role: 'assistant', content: text || null, tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) });
    for (const call of calls) {
      const outcome = await callTool(deps, turn, call);
      if (outcome === 'awaiting_approval') {
        turn.write({ type: 'finish-step' });
        return 'awaiting_approval';
      }
      messages.push({ role: 'tool', tool_call_id: call.id, content: outcome });
    }
    turn.write({ type: 'finish-step' });
  }
  const id = randomUUID();
  turn.write({ type: 'text-start', id });
  turn.write({ type: 'text-delta', id, delta: `I stopped after ${deps.stepLimit} steps without finishing. Tell me how to continue.` });
  turn.write({ type: 'text-end', id });
  return 'step_limit';
}

/** What the model reads for a turn: the system prompt, then the conversation. */
export function modelInput(history: ModelMessage[]): ModelMessage[] {
  return [{ role: 'system', content: SYSTEM_PROMPT }, ...history];
}

/** A model step's streamed completion, as requested (see `requestStep`). */
export type ModelStep = ReturnType<typeof requestStep>;

/**
 * Asks the model for its next step. The request is on its way when this returns; a caller that
 * awaits the answer later has it marked handled here, so a failure in between is not unhandled
 * (awaiting it still throws).
 */
export function requestStep(deps: Pick<AgentDeps, 'llm' | 'model'>, messages: ModelMessage[], signal: AbortSignal) {
  const step = deps.llm.chat.completions.create(
    // include_usage: the stream's last chunk carries the step's token counts (see relayStep).
    { model: deps.model, messages, tools: FUNCTIONS, tool_choice: 'auto', parallel_tool_calls: false, stream: true, stream_options: { include_usage: true } },
    { signal },
  );
  step.catch(() => {});
  return step;
}

/**
 * One model step's tokens as the endpoint reported them, named as the AI SDK's LanguageModelUsage
 * names them. Each step's usage goes out as a `message-metadata` chunk ({step_usage}), so a reader
 * of the stream (the evals) can add up a turn's steps; the message's metadata keeps the last one.
 */
export interface StepUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

interface Call {
  id: string;
  name: string;
  arguments: string;
}

/**
 * One streamed completion, relayed as text and tool-input chunks as it arrives. `started`: the
 * request for these same messages, made before the turn began (see ChatService.startNewChat).
 */
async function streamStep(deps: AgentDeps, messages: ModelMessage[], turn: AgentTurn, started?: ModelStep): Promise<{ text: string; calls: Call[] }> {
  try {
    return await relayStep(await (started ?? requestStep(deps, messages, turn.signal)), turn);
  } catch (error) {
    throw llmFailure(error);
  }
}

async function relayStep(stream: Awaited<ModelStep>, turn: AgentTurn): Promise<{ text: string; calls: Call[] }> {
  let text = '';
  let textId: string | null = null;
  const calls = new Map<number, Call>();
  // Deltas that arrive together (one network read) go out as one chunk, text or one call's
  // arguments: fewer chunks through the turn log and every reader when the model is fast (a
  // pipeline spec's arguments come in thousands of pieces), and no added wait when it is slow.
  let pending = '';
  let pendingCall: Call | null = null; // whose arguments `pending` holds; null while it holds text
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (!pending) return;
    if (pendingCall) {
      turn.write({ type: 'tool-input-delta', toolCallId: pendingCall.id, inputTextDelta: pending });
    } else {
      if (!textId) {
        textId = randomUUID();
        turn.write({ type: 'text-start', id: textId });
      }
      turn.write({ type: 'text-delta', id: textId, delta: pending });
    }
    pending = '';
  };
  const add = (delta: string, call: Call | null) => {
    if (call !== pendingCall) flush();
    pendingCall = call;
    pending += delta;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  let usage: StepUsage | null = null;
  for await (const chunk of stream) {
    // The usage chunk comes last, with no choices; endpoints that ignore include_usage send none.
    if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens, totalTokens: chunk.usage.total_tokens };
    const delta = chunk.choices[0]?.delta;
    if (!delta) continue;
    if (delta.content) {
      text += delta.content;
      add(delta.content, null);
    }
    for (const piece of delta.tool_calls ?? []) {
      let call = calls.get(piece.index);
      if (!call) {
        flush();
        call = { id: piece.id ?? `call_${randomUUID()}`, name: piece.function?.name ?? '', arguments: '' };
        calls.set(piece.index, call);
        turn.write({ type: 'tool-input-start', toolCallId: call.id, toolName: call.name });
      }
      if (piece.function?.arguments) {
        call.arguments += piece.function.arguments;
        add(piece.function.arguments, call);
      }
    }
  }
  flush();
  // The openai client ends an aborted stream quietly: say it was aborted so the turn stops here.
  if (turn.signal.aborted) throw turn.signal.reason ?? new Error('aborted');
  if (textId) turn.write({ type: 'text-end', id: textId });
  if (usage) turn.write({ type: 'message-metadata', messageMetadata: { step_usage: usage } });
  return { text, calls: [...calls.values()] };
}

/** Runs one tool call and streams its result; the text is what the model reads next. */
async function callTool(deps: AgentDeps, turn: AgentTurn, call: Call): Promise<string | 'awaiting_approval'> {
  let input: unknown;
  try {
    input = JSON.parse(call.arguments || '{}');
  } catch {
    const errorText = `The arguments for ${call.name} are not valid JSON: ${call.arguments.slice(0, 200)}. Send one JSON object that matches the tool's schema.`;
    turn.write({ type: 'tool-input-error', toolCallId: call.id, toolName: call.name, input: call.arguments, errorText });
    return errorText;
  }
  turn.write({ type: 'tool-input-available', toolCallId: call.id, toolName: call.name, input });
  const tool = TOOLS.find((t) => t.name === call.name);
  if (!tool) {
    const errorText = `There is no tool named ${call.name}. Tools: ${TOOLS.map((t) => t.name).join(', ')}.`;
    turn.write({ type: 'tool-output-error', toolCallId: call.id, errorText });
    return errorText;
  }
  const ctx = toolContext(deps, turn, call.id);
  const outcome = await runTool(tool, input, ctx, { readOnly: false, approvals: deps.approvals });
  if (outcome.kind === 'needs_approval') {
    await requestApproval(deps, turn, call, input, outcome.approvalId);
    return 'awaiting_approval';
  }
  return reportOutcome(turn, call.id, call.name, outcome);
}

export function toolContext(deps: AgentDeps, turn: AgentTurn, toolCallId: string): ToolContext {
  return {
    principal: turn.principal,
    domain: deps.domain,
    log: deps.log.child({ chat_id: turn.chatId, tool_call_id: toolCallId }),
    signal: turn.signal,
    caller: 'model',
    surface: 'chat',
    requestId: `chat:${turn.chatId}:${toolCallId}`,
    progress: async (done, total, message) => turn.write({ type: 'data-progress', id: toolCallId, data: { done, total, message }, transient: true } as UIMessageChunk),
  };
}

/** Streams a tool's result (and a preview part where one helps); returns what the model reads. */
export function reportOutcome(turn: AgentTurn, toolCallId: string, toolName: string, outcome: ToolOutcome): string {
  if (outcome.kind === 'ok') {
    turn.write({ type: 'tool-output-available', toolCallId, output: outcome.output });
    const preview = PREVIEWS[toolName];
    if (preview) turn.write({ type: preview, id: toolCallId, data: outcome.output } as UIMessageChunk);
  } else {
    turn.write({ type: 'tool-output-error', toolCallId, errorText: outcome.text });
  }
  return outcome.text;
}

/**
 * Pauses for a person: binds the approval request the call opened to this chat, user and call
 * (keeping only its id's hash, and no token), shows what would change, and asks the client. The
 * person's yes in the chat approves that request; the call, run again, uses it.
 */
async function requestApproval(deps: AgentDeps, turn: AgentTurn, call: Call, input: unknown, approvalId: string): Promise<void> {
  await deps.chats.createApproval({
    id: approvalId,
    chat_id: turn.chatId,
    user_id: turn.principal.userId,
    tool_call_id: call.id,
    tool_name: call.name,
    input: input as Record<string, unknown>,
  });
  if (call.name === 'deploy_pipeline') {
    const args = input as { pipeline_id: string; environment: string; version?: number };
    const preview = await deps.domain.deployments
      .preview(turn.principal, args.pipeline_id, { environment: args.environment, ...(args.version ? { version: args.version } : {}) })
      .catch(() => null);
    if (preview) turn.write({ type: 'data-deploy-preview', id: call.id, data: preview } as UIMessageChunk);
  }
  turn.write({ type: 'tool-approval-request', approvalId, toolCallId: call.id });
}
