import type { UIMessage } from 'ai';
import { reportOutcome, toolContext, type AgentDeps, type AgentTurn } from '../agent/run-agent.ts';
import type { ApprovalRequests } from '../auth/approval-requests.ts';
import type { Principal } from '../auth/principal.ts';
import { AppError } from '../errors.ts';
import { TOOLS } from '../../tools/index.ts';
import { runTool } from '../../tools/run-tool.ts';
import type { ChatRepo } from './chat-repo.ts';

/** A tool call as a UIMessage part holds it, with the approval the client answered. */
type ToolPartLike = { type: string; toolCallId: string; state: string; input?: unknown; output?: unknown; errorText?: string; approval?: { id: string; approved?: boolean; reason?: string } };

/** An answered approval: the stored call it answers, and what the user said. */
export interface Resolved {
  part: ToolPartLike;
  approved: boolean;
  input: Record<string, unknown>;
  toolName: string;
  reason?: string;
}

/**
 * The approvals a POST answers (`sent`, the client's copy of the chat's last message), each
 * settled in the store: only ids this server issued for this chat, user and call, and only once.
 * Each answer is the person's answer to the call's approval request, so only a person answers:
 * a POST made with an agent's key is refused before anything is settled. The answers go on the
 * stored message's call parts (in `history`). Throws, settling nothing more, at the first answer
 * that is not one of those.
 */
export async function settleApprovals(deps: { chats: ChatRepo; approvals: ApprovalRequests }, principal: Principal, chatId: string, history: UIMessage[], sent: UIMessage): Promise<Resolved[]> {
  const { chats, approvals } = deps;
  const stored = history.find((m) => m.id === sent.id);
  if (!stored) throw new AppError('invalid:request', 'The last message is neither a new user message nor one of this chat\'s.', { hint: 'Send the new user message last.' });
  // Only the latest message's approvals are open: once the user has moved on, the model was told
  // the call did not run, and approving it then would act behind the conversation's back.
  if (history.at(-1) !== stored) {
    throw new AppError('forbidden:approval', 'That approval is no longer open: the conversation has moved on since it was asked for.', {
      hint: 'Ask for the change again in a new message.',
    });
  }
  const answered = (sent.parts as unknown as ToolPartLike[]).filter((p) => p.state === 'approval-responded' && p.approval);
  if (answered.length === 0) throw new AppError('invalid:request', 'Nothing to continue: the last message answers no approval.', { hint: 'Send a new user message.' });
  approvals.assertPerson(principal);
  const out: Resolved[] = [];
  for (const part of answered) {
    const row = await chats.settleApproval(part.approval!.id, chatId, principal.userId, part.toolCallId, part.approval!.approved === true);
    if (!row) {
      throw new AppError('forbidden:approval', `Approval "${part.approval!.id}" was not issued by this server for this chat and call, or was already used.`, {
        hint: 'Approve the request shown in the chat; approvals cannot be made up or reused.',
      });
    }
    // The chat's yes (or no) answers the approval request the call opened; the call, run again
    // below, uses that approval. A request that expired meanwhile is refused here.
    await approvals.decide(principal, part.approval!.id, part.approval!.approved === true);
    const storedPart = (stored.parts as unknown as ToolPartLike[]).find((p) => p.toolCallId === part.toolCallId) ?? part;
    // The answer goes on the stored call as the client shows it, so the stored message keeps it
    // and the model is told a denial's reason.
    Object.assign(storedPart, {
      state: 'approval-responded',
      approval: { id: part.approval!.id, approved: part.approval!.approved === true, ...(part.approval!.reason ? { reason: part.approval!.reason } : {}) },
    });
    out.push({ part: storedPart, approved: part.approval!.approved === true, input: row.input, toolName: row.tool_name, ...(part.approval!.reason ? { reason: part.approval!.reason } : {}) });
  }
  return out;
}

/**
 * Runs the calls the user approved and tells the model which were denied; each stored call part
 * takes the outcome, as the client shows it.
 */
export async function answerApprovals(deps: AgentDeps, turn: AgentTurn, resolved: Resolved[]): Promise<void> {
  for (const r of resolved) {
    if (r.approved) {
      const tool = TOOLS.find((t) => t.name === r.toolName)!;
      let outcome = await runTool(tool, r.input, toolContext(deps, turn, r.part.toolCallId), { readOnly: false, approvals: deps.approvals });
      if (outcome.kind === 'needs_approval') {
        // The approval was not there to use (a person's answer elsewhere used it first): nothing
        // ran, and asking again in the chat is the way forward.
        const message = `The user's approval for ${r.toolName} could not be used (it was used or expired); nothing was done.`;
        const hint = `Call ${r.toolName} again to ask the user for a new approval.`;
        outcome = { kind: 'error', error: { code: 'forbidden:approval_expired', message, hint }, text: `Error forbidden:approval_expired: ${message}\nHint: ${hint}` };
      }
      reportOutcome(turn, r.part.toolCallId, r.toolName, outcome);
      Object.assign(r.part, outcome.kind === 'ok' ? { state: 'output-available', output: outcome.text } : { state: 'output-error', errorText: outcome.text });
    } else {
      turn.write({ type: 'tool-output-denied', toolCallId: r.part.toolCallId });
      Object.assign(r.part, { state: 'output-denied' });
    }
  }
}
