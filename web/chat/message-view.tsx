import type { UIMessage } from 'ai';
import { ToolCall } from './tool-call.tsx';
import { deployPreviewFor, isToolPart, type Progress } from './tool-parts.ts';

export interface MessageViewProps {
  message: UIMessage;
  progress: Record<string, Progress>;
  onApproval: (approvalId: string, approved: boolean) => void;
}

/** A message's text and tool calls, in the order they streamed; previews show with their call. */
export function MessageView({ message, progress, onApproval }: MessageViewProps) {
  return (
    <div className={`message message-${message.role}`} data-testid="message" data-role={message.role}>
      {message.parts.map((part, i) => {
        if (part.type === 'text') {
          return (
            <p key={i} className="message-text">
              {part.text}
            </p>
          );
        }
        if (isToolPart(part)) {
          return <ToolCall key={part.toolCallId} part={part} preview={deployPreviewFor(message, part.toolCallId)} progress={progress[part.toolCallId]} onApproval={onApproval} />;
        }
        return null;
      })}
    </div>
  );
}
