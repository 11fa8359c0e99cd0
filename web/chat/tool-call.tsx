import { ApprovalRequest } from '../approvals/deploy-approval.tsx';
import { outputSummary, stateLabel, toolName, type DeployPreview, type Progress, type ToolPartLike } from './tool-parts.ts';

export interface ToolCallProps {
  part: ToolPartLike;
  preview: DeployPreview | null;
  progress: Progress | undefined;
  onApproval: (approvalId: string, approved: boolean) => void;
}

const json = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

/** One tool call as it streams: name and state, progress, the approval it waits for, input and output. */
export function ToolCall({ part, preview, progress, onApproval }: ToolCallProps) {
  const name = toolName(part);
  const summary = part.state === 'output-available' ? outputSummary(name, part.output) : null;
  return (
    <div className="tool-call" data-testid="tool-call" data-tool={name} data-state={part.state}>
      <div className="tool-head">
        <span className="tool-name">{name}</span>
        <span className={`tool-state state-${part.state}`} data-testid="tool-state">
          {stateLabel(part.state)}
        </span>
        {summary && (
          <span className="tool-summary" data-testid="tool-summary">
            {summary}
          </span>
        )}
      </div>
      {progress && (
        <div className="tool-progress" data-testid="progress">
          <progress value={progress.done} max={progress.total} /> {progress.message}
        </div>
      )}
      {part.state === 'approval-requested' && part.approval && (
        <ApprovalRequest toolName={name} input={part.input} preview={preview} onAnswer={(approved) => onApproval(part.approval!.id, approved)} />
      )}
      {part.state === 'output-error' && <div className="tool-error">{part.errorText}</div>}
      {part.input !== undefined && (
        <details>
          <summary>input</summary>
          <pre>{json(part.input)}</pre>
        </details>
      )}
      {part.output !== undefined && (
        <details>
          <summary>output</summary>
          <pre>{json(part.output)}</pre>
        </details>
      )}
    </div>
  );
}
