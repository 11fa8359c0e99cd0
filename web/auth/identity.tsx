import type { Me } from './access.ts';

/** Who the tab's key acts as, and the way to drop the key from this tab. */
export function Identity({ me, onForget }: { me: Me; onForget: () => void }) {
  return (
    <div className="identity" data-testid="identity">
      <span title={`${me.kind}, key ${me.key_id ?? ''}`}>
        {me.user_name ?? me.user_id} · {me.org_name ?? me.org_id} · {me.role}
      </span>
      <button type="button" onClick={onForget} data-testid="forget-key">
        Forget key
      </button>
    </div>
  );
}
