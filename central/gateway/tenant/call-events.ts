import { type AgentEventInput, type EventKind, type EventPayload, uuidv7 } from "../../../contract";
import type { Ingest } from "../../events/ingest";
import type { Logger } from "../../log";
import { iso } from "../../tenant/context";
import type { Attribution } from "../admission";

/**
 * The gateway's events (`model_call` for every call, `budget` when a budget is crossed or
 * refuses a call) into the tenant's log, `source: "central"`, attributed to the caller's run
 * and agent when it is an edge run. They go through ingest, so they are validated and redacted
 * like any event. `seq` counts the gateway's events per run (table `gateway_seq`, see schema.ts).
 */
export class CallEvents {
  /** Events held by `together`, ingested as one batch when it ends. */
  private held: AgentEventInput[] | null = null;

  constructor(
    private readonly tenant: string,
    private readonly sql: SqlStorage,
    private readonly ingest: Ingest,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  emit<K extends EventKind>(
    who: Attribution,
    kind: K,
    payload: EventPayload<K> | Record<string, unknown>,
  ): void {
    const event = {
      event_id: uuidv7(),
      tenant: this.tenant,
      run_id: who.runId,
      agent_id: who.agentId,
      source: "central",
      seq: this.nextSeq(who.runId),
      attempt: who.attempt,
      kind,
      payload,
      ts: iso(this.now()),
    } as AgentEventInput;
    if (this.held) this.held.push(event);
    else this.write([event]);
  }

  /**
   * Runs `work` and ingests the events it emitted as one batch: one append (one transaction,
   * one cursor update, one notice to live readers) for a whole settlement batch, not one per call.
   */
  together<T>(work: () => T): T {
    if (this.held) return work();
    const held: AgentEventInput[] = [];
    this.held = held;
    try {
      return work();
    } finally {
      this.held = null;
      this.write(held);
    }
  }

  private write(events: AgentEventInput[]): void {
    if (events.length === 0) return;
    const outcome = this.ingest.ingest(events, { kind: "central" });
    for (const refused of outcome.rejected)
      this.log.error("gateway event refused by the log", {
        kind: events[refused.index]?.kind,
        issues: refused.issues,
      });
  }

  // The Durable Object's SQL API directly (not drizzle): this runs once per call, and workerd
  // caches the prepared statement by its text.
  private nextSeq(runId: string | null): number {
    const row = this.sql
      .exec<{ next: number }>(
        "INSERT INTO gateway_seq (stream, next) VALUES (?, 1) ON CONFLICT(stream) DO UPDATE SET next = next + 1 RETURNING next",
        runId ?? "-",
      )
      .one();
    return row.next - 1;
  }
}
