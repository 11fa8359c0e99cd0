import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { api, apiKey } from '../api.ts';
import { checkAccess, submitKey, type Access, type Me } from './access.ts';
import { Identity } from './identity.tsx';
import { KeyPrompt } from './key-prompt.tsx';
import './auth.css';

const whoAmI = () => api.get<Me>('/v1/me');

/**
 * Shows the page once the service says who the tab is: at once in local mode, after a key in
 * required mode. Forgetting the key unmounts the page, so nothing it loaded stays on screen.
 */
export function KeyGate({ children }: { children: ReactNode }) {
  const [access, setAccess] = useState<Access | null>(null);
  const check = useCallback(() => {
    setAccess(null);
    void checkAccess(whoAmI, apiKey).then(setAccess);
  }, []);
  useEffect(check, [check]);

  if (!access) return <p className="key-checking">Connecting…</p>;
  switch (access.kind) {
    case 'local':
      return children;
    case 'signed_in':
      return (
        <>
          <Identity
            me={access.me}
            onForget={() => {
              apiKey.clear();
              check();
            }}
          />
          {children}
        </>
      );
    case 'needs_key':
      return <KeyPrompt message={access.message} onSubmit={async (key) => setAccess(await submitKey(key, whoAmI, apiKey))} />;
    case 'unreachable':
      return (
        <div className="key-screen">
          <div className="key-prompt" role="alert">
            <p>The service did not answer: {access.message}</p>
            <button type="button" onClick={check}>
              Try again
            </button>
          </div>
        </div>
      );
  }
}
