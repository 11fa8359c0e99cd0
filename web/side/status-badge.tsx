import type { StatusView } from './status.ts';

/** A status word as the API says it, coloured by what it means. */
export function StatusBadge({ text, view, testId }: { text: string; view: StatusView; testId?: string }) {
  return (
    <span className={`badge tone-${view.tone}`} title={view.explain} data-testid={testId}>
      {text}
    </span>
  );
}
