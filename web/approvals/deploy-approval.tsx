import type { DeployPreview } from '../chat/tool-parts.ts';

export interface ApprovalRequestProps {
  toolName: string;
  input: unknown;
  /** The deploy preview the server sent beside a gated deploy; null for other gated tools. */
  preview: DeployPreview | null;
  onAnswer: (approved: boolean) => void;
}

/** What a gated call would do, and the person's two answers. */
export function ApprovalRequest({ toolName, input, preview, onAnswer }: ApprovalRequestProps) {
  const args = (input ?? {}) as Record<string, unknown>;
  return (
    <div className="approval" data-testid="approval-request">
      {preview ? (
        <dl className="deploy-preview" data-testid="deploy-preview">
          <dt>Environment</dt>
          <dd>{preview.environment}</dd>
          <dt>Pipeline</dt>
          <dd>{String(args.pipeline_id ?? '')}</dd>
          <dt>Version</dt>
          <dd>
            {preview.version}
            {preview.live_version === null ? ' (first deploy there)' : ` (replaces ${preview.live_version})`}
          </dd>
          <dt>Changes</dt>
          <dd>
            {preview.unchanged || Object.keys(preview.changes).length === 0 ? (
              'none: the same code is in place'
            ) : (
              <ul>
                {Object.entries(preview.changes).map(([file, diff]) => (
                  <li key={file}>
                    <details>
                      <summary>{file}</summary>
                      <pre>{diff}</pre>
                    </details>
                  </li>
                ))}
              </ul>
            )}
          </dd>
          {preview.missing_secrets && preview.missing_secrets.length > 0 && (
            <>
              <dt>Missing secrets</dt>
              <dd>{JSON.stringify(preview.missing_secrets)}</dd>
            </>
          )}
          {preview.dagster && (
            <>
              <dt>Dagster</dt>
              <dd>{preview.dagster}</dd>
            </>
          )}
        </dl>
      ) : (
        <p>
          {toolName} with <code>{JSON.stringify(args)}</code>
        </p>
      )}
      <div className="buttons">
        <button type="button" data-testid="approve" onClick={() => onAnswer(true)}>
          Approve
        </button>
        <button type="button" data-testid="deny" onClick={() => onAnswer(false)}>
          Deny
        </button>
      </div>
    </div>
  );
}
