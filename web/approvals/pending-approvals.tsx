import { useCallback, useEffect, useState } from 'react';
import type { Api } from '../api.ts';

interface PendingApproval {
  ref: string;
  action: string;
  surface: string;
  summary: Record<string, unknown>;
  created_at: string;
  expires_at: string;
}

const POLL_MS = 4000;

/**
 * Approval requests that MCP agents (or REST with an agent's key) opened and only a person can
 * answer, polled. The chat's own requests are left out: they are answered beside their call in
 * the chat, where the turn waits for the answer.
 */
export function PendingApprovals({ api }: { api: Api }) {
  const [pending, setPending] = useState<PendingApproval[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const { approvals } = await api.get<{ approvals: PendingApproval[] }>('/v1/approvals');
      setPending(approvals.filter((a) => a.surface !== 'chat'));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [api]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [load]);

  const answer = async (ref: string, approve: boolean) => {
    try {
      await api.post(`/v1/approvals/${encodeURIComponent(ref)}/${approve ? 'approve' : 'deny'}`);
    } catch (e) {
      setError((e as Error).message);
    }
    await load();
  };

  if (pending.length === 0 && !error) return null;
  return (
    <section className="pending-approvals" data-testid="pending-approvals">
      <h2>Waiting for your approval</h2>
      {error && <p className="error">{error}</p>}
      <ul>
        {pending.map((a) => (
          <li key={a.ref} data-testid="pending-approval">
            <span className="approval-action">{a.action}</span> <span className="approval-surface">from {a.surface}</span>
            <code>{JSON.stringify(a.summary)}</code>
            <span className="buttons">
              <button type="button" data-testid="approve" onClick={() => void answer(a.ref, true)}>
                Approve
              </button>
              <button type="button" data-testid="deny" onClick={() => void answer(a.ref, false)}>
                Deny
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
