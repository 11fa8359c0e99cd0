import { useEffect, useState } from 'react';
import type { Api } from '../api.ts';
import { uiBase } from './dagster-links.ts';
import type { Environment } from './types.ts';

/**
 * Environment name → its Dagster UI's base, read once: environments come from the service's
 * configuration and change only when it restarts. A failure only costs the links.
 */
export function useUiBases(api: Api): ReadonlyMap<string, string> {
  const [bases, setBases] = useState<ReadonlyMap<string, string>>(new Map());
  useEffect(() => {
    let stopped = false;
    api
      .get<{ environments: Environment[] }>('/v1/environments')
      .then(({ environments }) => {
        if (stopped) return;
        const known = environments.flatMap((e) => {
          const base = uiBase(e.dagster_url);
          return base ? [[e.name, base] as const] : [];
        });
        setBases(new Map(known));
      })
      .catch(() => {});
    return () => {
      stopped = true;
    };
  }, [api]);
  return bases;
}
