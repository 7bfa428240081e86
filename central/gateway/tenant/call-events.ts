import { sql } from "drizzle-orm";
import { type AgentEventInput, type EventKind, type EventPayload, uuidv7 } from "../../../contract";
import type { Database } from "../../db/database";
import type { Ingest } from "../../events/ingest";
import type { Logger } from "../../log";
import { iso } from "../../tenant/context";
import type { Attribution } from "../admission";
import { gatewaySeq } from "./schema";

/**
 * The gateway's events (`model_call` for every call, `budget` when a budget is crossed or
 * refuses a call) into the tenant's log, `source: "central"`, attributed to the caller's run
 * and agent when it is an edge run. They go through ingest, so they are validated and redacted
 * like any event. `seq` counts the gateway's events per run.
 */
export class CallEvents {
  constructor(
    private readonly tenant: string,
    private readonly db: Database,
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
    const outcome = this.ingest.ingest([event], { kind: "central" });
    if (outcome.rejected.length)
      this.log.error("gateway event refused by the log", {
        kind,
        issues: outcome.rejected[0]!.issues,
      });
  }

  private nextSeq(runId: string | null): number {
    const row = this.db
      .insert(gatewaySeq)
      .values({ stream: runId ?? "-", next: 1 })
      .onConflictDoUpdate({ target: gatewaySeq.stream, set: { next: sql`${gatewaySeq.next} + 1` } })
      .returning({ next: gatewaySeq.next })
      .get();
    return row.next - 1;
  }
}
