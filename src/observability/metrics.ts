import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** How a chat turn ended (see ChatService.run). */
export type ChatTurnOutcome = 'finished' | 'error' | 'stopped' | 'timed_out' | 'shutdown' | 'not_logged';

/** What the tool runner reports of each call: the tool layer sees only this (see tools/run-tool.ts). */
export interface ToolMetrics {
  toolCall(tool: string, surface: 'mcp' | 'chat', outcome: 'ok' | 'error' | 'needs_approval'): void;
}

/** One Dagster GraphQL request, as the client timed it (retries included). */
export interface GraphqlSample {
  operation: string;
  seconds: number;
  outcome: 'ok' | 'error';
}

/**
 * The service's Prometheus metrics, in a registry of its own per instance of the service (never
 * prom-client's global one): two apps in one process, and every test, count apart. Each event is
 * counted where it happens, through the methods here, so names and labels live in this one file.
 */
export class Metrics implements ToolMetrics {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({ name: 'constellation_http_requests_total', help: 'HTTP requests answered, by method, matched route pattern and status.', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry] });
  private readonly chatTurns = new Counter({ name: 'constellation_chat_turns_total', help: 'Chat turns that ended, by outcome.', labelNames: ['outcome'] as const, registers: [this.registry] });
  private readonly modelTokens = new Counter({ name: 'constellation_model_tokens_total', help: "Tokens the language model read (in) and wrote (out), as its endpoint reported them.", labelNames: ['direction'] as const, registers: [this.registry] });
  private readonly toolCalls = new Counter({ name: 'constellation_tool_calls_total', help: 'Tool calls from chat turns and MCP clients, by tool, surface and outcome.', labelNames: ['tool', 'surface', 'outcome'] as const, registers: [this.registry] });
  private readonly deploys = new Counter({ name: 'constellation_deploys_total', help: 'Deployments this instance finished, by outcome (deployed, written, failed).', labelNames: ['outcome'] as const, registers: [this.registry] });
  private readonly dagsterGraphql = new Histogram({
    name: 'constellation_dagster_graphql_duration_seconds',
    help: "Dagster GraphQL requests' duration, retries included, by operation and outcome.",
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly chatStreams = new Gauge({ name: 'constellation_chat_streams_open', help: 'Chat turn streams (SSE) being read by clients now.', registers: [this.registry] });
  private readonly mcpSessions = new Gauge({ name: 'constellation_mcp_sessions_open', help: 'MCP sessions this instance holds now.', registers: [this.registry] });

  /** Node's process metrics (memory, CPU, event loop lag) too: for the server, not for tests. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry, prefix: 'constellation_' });
  }

  httpRequest(method: string, route: string, status: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
  }

  chatTurn(outcome: ChatTurnOutcome): void {
    this.chatTurns.inc({ outcome });
  }

  tokens(input: number, output: number): void {
    if (input > 0) this.modelTokens.inc({ direction: 'in' }, input);
    if (output > 0) this.modelTokens.inc({ direction: 'out' }, output);
  }

  toolCall(tool: string, surface: 'mcp' | 'chat', outcome: 'ok' | 'error' | 'needs_approval'): void {
    this.toolCalls.inc({ tool, surface, outcome });
  }

  deploy(outcome: 'deployed' | 'written' | 'failed'): void {
    this.deploys.inc({ outcome });
  }

  graphqlRequest(sample: GraphqlSample): void {
    this.dagsterGraphql.observe({ operation: sample.operation, outcome: sample.outcome }, sample.seconds);
  }

  chatStreamOpened(): void {
    this.chatStreams.inc();
  }

  chatStreamClosed(): void {
    this.chatStreams.dec();
  }

  mcpSessionOpened(): void {
    this.mcpSessions.inc();
  }

  mcpSessionClosed(): void {
    this.mcpSessions.dec();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
