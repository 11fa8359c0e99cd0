/**
 * What the chat shows of a message's tool calls, read from the AI SDK's UIMessage parts. Pure (no
 * React), so the unit tests import it directly.
 */
import { asGraphSpec, type GraphSpec } from '../graph/layout.ts';

/** The tool part fields the page reads (a `tool-<name>` or `dynamic-tool` part). */
export interface ToolPartLike {
  type: string;
  toolName?: string;
  toolCallId: string;
  state: string;
  input?: unknown;
  output?: unknown;
  errorText?: string;
  approval?: { id: string; approved?: boolean; reason?: string };
}

type PartLike = { type: string; [key: string]: unknown };
type MessageLike = { role: string; parts: PartLike[] };

const STATE_LABELS: Record<string, string> = {
  'input-streaming': 'writing the call…',
  'input-available': 'running…',
  'approval-requested': 'waiting for your approval',
  'approval-responded': 'answered, continuing…',
  'output-available': 'done',
  'output-error': 'failed',
  'output-denied': 'denied',
};

export function isToolPart(part: PartLike): part is PartLike & ToolPartLike {
  return (part.type.startsWith('tool-') || part.type === 'dynamic-tool') && typeof part.toolCallId === 'string';
}

export function toolName(part: ToolPartLike): string {
  return part.type === 'dynamic-tool' ? (part.toolName ?? 'tool') : part.type.slice('tool-'.length);
}

/** A person's words for a call's state; an unknown (newer SDK) state is shown as it is. */
export function stateLabel(state: string): string {
  return STATE_LABELS[state] ?? state;
}

/** One line about a finished call's result, where its output has an obvious headline. */
export function outputSummary(name: string, output: unknown): string | null {
  if (!output || typeof output !== 'object') return null;
  const o = output as Record<string, unknown>;
  if ((name === 'propose_pipeline' || name === 'edit_pipeline') && typeof o.name === 'string') return `${o.name}, version ${String(o.version)}`;
  if (name === 'validate_pipeline' && typeof o.valid === 'boolean') return o.valid ? 'valid' : `${(o.errors as unknown[] | undefined)?.length ?? 0} problem(s)`;
  if (typeof o.status === 'string') return `status: ${o.status}${typeof o.environment === 'string' ? ` (${o.environment})` : ''}`;
  if (Array.isArray(o.results)) return `${o.results.length} result(s)`;
  return null;
}

/** The pipeline the conversation last proposed or edited: its id (once saved) and spec. */
export interface ChatPipeline {
  /** Null while a proposal of a new pipeline is not saved yet. */
  pipelineId: string | null;
  spec: GraphSpec | null;
  /** Changes with every call that touches a pipeline, so a view can refetch. */
  key: string;
}

/**
 * The latest propose_pipeline / edit_pipeline call, newest first: its saved output (id and spec),
 * or for a proposal still in flight its input's spec (so the graph is drawn as the agent proposes,
 * before it is saved). An edit's input is a patch: its pipeline id only, the spec comes once saved.
 */
export function latestPipeline(messages: MessageLike[]): ChatPipeline | null {
  for (const message of [...messages].reverse()) {
    for (const part of [...message.parts].reverse()) {
      if (!isToolPart(part)) continue;
      const name = toolName(part);
      if (name !== 'propose_pipeline' && name !== 'edit_pipeline') continue;
      if (part.state === 'output-error' || part.state === 'output-denied') continue;
      const key = `${part.toolCallId}:${part.state}`;
      const output = part.output as { pipeline_id?: unknown; spec?: unknown } | undefined;
      if (part.state === 'output-available' && typeof output?.pipeline_id === 'string') {
        return { pipelineId: output.pipeline_id, spec: asGraphSpec(output.spec), key };
      }
      const input = (part.input ?? {}) as { pipeline_id?: unknown; spec?: unknown };
      const pipelineId = typeof input.pipeline_id === 'string' ? input.pipeline_id : null;
      const spec = name === 'propose_pipeline' ? asGraphSpec(input.spec) : null;
      if (spec || pipelineId) return { pipelineId, spec, key };
    }
  }
  return null;
}

/** What a deploy preview (the `data-deploy-preview` part beside a gated deploy) carries. */
export interface DeployPreview {
  environment: string;
  version: number;
  live_version: number | null;
  location_name?: string;
  unchanged?: boolean;
  changes: Record<string, string>;
  missing_secrets?: unknown[];
  dagster?: string;
}

/** The deploy preview the server sent for a call, if any (it shares the call's id). */
export function deployPreviewFor(message: MessageLike, toolCallId: string): DeployPreview | null {
  const part = message.parts.find((p) => p.type === 'data-deploy-preview' && p.id === toolCallId);
  return part ? (part.data as DeployPreview) : null;
}

/** A call's progress, as `data-progress` parts report it while a tool runs (deploy with wait). */
export interface Progress {
  done: number;
  total: number;
  message: string;
}

/** The progress to keep from a data part the stream delivered, or null when it is not progress. */
export function progressOf(part: { type: string; id?: string; data?: unknown }): { id: string; progress: Progress } | null {
  if (part.type !== 'data-progress' || typeof part.id !== 'string') return null;
  const data = part.data as Partial<Progress> | undefined;
  if (typeof data?.done !== 'number' || typeof data.total !== 'number') return null;
  return { id: part.id, progress: { done: data.done, total: data.total, message: String(data.message ?? '') } };
}
