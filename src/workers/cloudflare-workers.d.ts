/**
 * The few parts of the Workers runtime this service uses, declared here rather than through
 * @cloudflare/workers-types, whose globals clash with the DOM and Node types the rest of the
 * project compiles against.
 */
declare module 'cloudflare:workers' {
  export interface DurableObjectStorage {
    get<T = unknown>(key: string): Promise<T | undefined>;
    get<T = unknown>(keys: string[]): Promise<Map<string, T>>;
    put(entries: Record<string, unknown>): Promise<void>;
    put(key: string, value: unknown): Promise<void>;
    delete(key: string | string[]): Promise<boolean | number>;
    deleteAll(): Promise<void>;
    list<T = unknown>(options?: { start?: string; prefix?: string; limit?: number }): Promise<Map<string, T>>;
    setAlarm(scheduledTime: number): Promise<void>;
    deleteAlarm(): Promise<void>;
  }

  export interface WorkersWebSocket {
    send(message: string): void;
    close(code?: number, reason?: string): void;
  }

  export interface DurableObjectState {
    storage: DurableObjectStorage;
    acceptWebSocket(socket: WorkersWebSocket): void;
    getWebSockets(): WorkersWebSocket[];
  }

  export abstract class DurableObject<Env = unknown> {
    protected ctx: DurableObjectState;
    protected env: Env;
    constructor(ctx: DurableObjectState, env: Env);
  }

  export interface ExecutionContext {
    waitUntil(promise: Promise<unknown>): void;
  }
}


/** The built-in catalog's config validators, compiled ahead by scripts/worker-validators.ts (see wrangler.toml). */
declare module '@constellation/worker-validators' {
  import type { PrecompiledValidators } from '../catalog/config-validator.ts';
  const validators: PrecompiledValidators;
  export default validators;
}
