import { ApiError } from '../api.ts';

/** An API failure where it happened: the service's message and its hint, never a stack. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof ApiError ? error.hint : undefined;
  return (
    <div className="side-error" role="alert">
      <span>{message}</span>
      {hint ? <span className="side-hint">{hint}</span> : null}
    </div>
  );
}
