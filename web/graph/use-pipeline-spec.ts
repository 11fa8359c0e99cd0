import { useEffect, useState } from 'react';
import type { Api } from '../api.ts';
import { asGraphSpec, type GraphSpec } from './layout.ts';

export interface FetchedPipeline {
  id: string;
  name: string;
  version: number;
  spec: GraphSpec | null;
}

/**
 * The pipeline as the service stores it (GET /v1/pipelines/{id}), fetched again whenever `id` or
 * `refresh` changes (the chat bumps `refresh` after each edit). A failed fetch keeps nothing: the
 * graph then shows what the chat proposed, if anything.
 */
export function usePipelineSpec(api: Api, id: string | null, refresh: string | null): FetchedPipeline | null {
  const [pipeline, setPipeline] = useState<FetchedPipeline | null>(null);
  useEffect(() => {
    if (!id) {
      setPipeline(null);
      return;
    }
    let current = true;
    api
      .get<{ id: string; name: string; version: number; spec: unknown }>(`/v1/pipelines/${encodeURIComponent(id)}`)
      .then((p) => current && setPipeline({ id: p.id, name: p.name, version: p.version, spec: asGraphSpec(p.spec) }))
      .catch(() => current && setPipeline(null));
    return () => {
      current = false;
    };
  }, [api, id, refresh]);
  return pipeline;
}
