import { useState, type FormEvent } from 'react';

/** Asks for a person's API key; the key stays in this tab (sessionStorage) and goes only into a Bearer header. */
export function KeyPrompt({ message, onSubmit }: { message?: string | undefined; onSubmit: (key: string) => Promise<void> }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await onSubmit(key);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="key-screen">
      <form className="key-prompt" data-testid="key-prompt" onSubmit={submit}>
        <h1>Constellation Agent</h1>
        <p>This service requires an API key. It is kept in this tab only and forgotten when the tab closes.</p>
        <label>
          API key
          <input type="password" name="api-key" autoComplete="off" autoFocus value={key} onChange={(e) => setKey(e.target.value)} placeholder="cak_…" data-testid="api-key-input" />
        </label>
        {message ? (
          <p className="key-error" role="alert" data-testid="key-error">
            {message}
          </p>
        ) : null}
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? 'Checking…' : 'Use this key'}
        </button>
        <p className="key-muted">
          An operator issues keys with <code>npm run key -- create --org &lt;org&gt; --user &lt;you&gt;</code>.
        </p>
      </form>
    </div>
  );
}
