import { useCallback, useEffect, useRef, useState } from 'react';
import { IDLE_POLL_MS } from './polling.ts';

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  /** Load again now (after an action that changed what is shown). */
  refresh: () => void;
}

/**
 * Loads now, then again after `delayFor(data)` ms (null: stop), for as long as the component
 * lives and `key` is the same. A hidden tab stops asking (nobody is looking, and a laptop lid
 * should not keep the service and Dagster busy); showing it again loads at once.
 */
export function usePolling<T>(load: () => Promise<T>, delayFor: (data: T) => number | null, key: readonly unknown[]): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  // The latest closures, so a re-render with new props changes what the next tick does without restarting the loop.
  const loadRef = useRef(load);
  const delayRef = useRef(delayFor);
  loadRef.current = load;
  delayRef.current = delayFor;
  const tickRef = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    setData(undefined);
    setError(null);

    const tick = async () => {
      clearTimeout(timer);
      if (stopped || document.hidden) return;
      // One request at a time: a refresh asked for mid-request runs as soon as it ends.
      if (running) {
        again = true;
        return;
      }
      running = true;
      let delay: number | null = IDLE_POLL_MS;
      try {
        const result = await loadRef.current();
        if (stopped) return;
        setData(result);
        setError(null);
        delay = delayRef.current(result);
      } catch (e) {
        if (stopped) return;
        setError(e);
      } finally {
        running = false;
      }
      if (again) {
        again = false;
        void tick();
      } else if (delay !== null && !document.hidden) {
        timer = setTimeout(() => void tick(), delay);
      }
    };
    const onVisibility = () => (document.hidden ? clearTimeout(timer) : void tick());

    tickRef.current = () => void tick();
    document.addEventListener('visibilitychange', onVisibility);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, key);

  const refresh = useCallback(() => tickRef.current(), []);
  return { data, error, refresh };
}
