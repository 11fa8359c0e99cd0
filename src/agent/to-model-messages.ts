import type { UIMessage } from 'ai';
import type OpenAI from 'openai';

type ModelMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type ToolPart = { type: string; toolCallId: string; state: string; input?: unknown; output?: unknown; errorText?: string; approval?: { reason?: string } };

const isToolPart = (part: { type: string }): part is ToolPart => part.type.startsWith('tool-') || part.type === 'dynamic-tool';
const toolName = (part: ToolPart & { toolName?: string }) => (part.type === 'dynamic-tool' ? part.toolName ?? 'unknown' : part.type.slice('tool-'.length));

/** What the model is told a tool call returned, from the part's final state. */
function resultText(part: ToolPart): string {
  switch (part.state) {
    case 'output-available':
      return typeof part.output === 'string' ? part.output : JSON.stringify(part.output);
    case 'output-error':
      return part.errorText ?? 'The tool failed.';
    case 'output-denied':
      // With the user's reason when they gave one: it often says what to do instead.
      return `The user denied this call${part.approval?.reason ? ` (their reason: ${JSON.stringify(part.approval.reason)})` : ''}. Do not retry it unless they ask; tell them what was not done.`;
    default:
      // Asked for approval and never answered (the user moved on): nothing ran.
      return 'This call did not run: it was waiting for the user\'s approval, which never came.';
  }
}

/**
 * UIMessages (what the client and the store hold) → chat-completions messages. An assistant
 * message becomes one assistant message per step (text and tool calls) followed by one tool
 * message per call, so every tool call the model made is answered, as the API requires.
 */
export function toModelMessages(messages: UIMessage[]): ModelMessage[] {
  const out: ModelMessage[] = [];
  for (const message of messages) {
    if (message.role === 'user' || message.role === 'system') {
      const text = message.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
      if (text) out.push({ role: message.role, content: text });
      continue;
    }
    let text = '';
    let calls: ToolPart[] = [];
    const flush = () => {
      if (!text && calls.length === 0) return;
      out.push({
        role: 'assistant',
        content: text || null,
        ...(calls.length
          ? { tool_calls: calls.map((c) => ({ id: c.toolCallId, type: 'function' as const, function: { name: toolName(c), arguments: JSON.stringify(c.input ?? {}) } })) }
          : {}),
      });
      for (const c of calls) out.push({ role: 'tool', tool_call_id: c.toolCallId, content: resultText(c) });
      text = '';
      calls = [];
    };
    for (const part of message.parts) {
      if (part.type === 'step-start') flush();
      else if (part.type === 'text') text += part.text;
      else if (isToolPart(part)) calls.push(part);
    }
    flush();
  }
  return out;
}
