import type { z } from "zod";
import {
  AgentEvent,
  CENTRAL_AGENT_ID,
  check,
  hearsFrom,
  isCentralKind,
  type RejectedEvent,
  redact,
  uuidv7Time,
  type ValidationIssue,
} from "../../contract";
import type { Scheduler } from "../dispatch/scheduler";
import type { AgentStore } from "../fleet/agent-store";

/** Secrets live in payloads; the envelope is ids, names and times the schema already pinned down. */
function redactPayload(event: AgentEvent): AgentEvent {
  const payload = redact(event.payload);
  return payload === event.payload ? event : ({ ...event, payload } as AgentEvent);
}

import type { TenantContext } from "../tenant/context";
import type { EventLog } from "./event-log";

type Rejected = z.infer<typeof RejectedEvent>;

/**
 * Who sent a batch: a connected agent (only its own events), an agent key over HTTP, or a part
 * of central itself (the model gateway's `model_call` events, `source: "central"`).
 */
export type IngestSource =
  | { kind: "socket"; agentId: string }
  | { kind: "http"; keyApp: string | null }
  | { kind: "central" };

export interface IngestOutcome {
  /** Ids now durably in the log: newly stored or already there. */
  durable: string[];
  stored: number;
  duplicates: number;
  rejected: Rejected[];
}

/**
 * The front door of the event log: each event is validated on its own (one bad event does not
 * sink its batch; it is reported with its field paths), checked against who sent it, stripped
 * of secrets, deduplicated by event_id and appended with the next cursor; new events then go
 * to their run's fold, in the order they were appended.
 */
export class Ingest {
  constructor(
    private readonly ctx: TenantContext,
    private readonly log: EventLog,
    private readonly agents: AgentStore,
    private readonly runs: Scheduler,
  ) {}

  ingest(batch: readonly unknown[], source: IngestSource): IngestOutcome {
    const accepted: AgentEvent[] = [];
    const rejected: Rejected[] = [];
    const oldest = this.ctx.now() - this.ctx.settings().archive.dedupe_window_ms;
    batch.forEach((raw, index) => {
      const parsed = check(AgentEvent, raw);
      if (!parsed.ok) {
        rejected.push({ index, event_id: idOf(raw), issues: parsed.issues });
        return;
      }
      const problem = this.refusal(parsed.value, source, oldest);
      if (problem) {
        rejected.push({ index, event_id: parsed.value.event_id, issues: [problem] });
        return;
      }
      accepted.push(redactPayload(parsed.value));
    });
    const { stored, duplicates } = this.log.append(accepted);
    // Group new events by run (in log order), so each run is read and written once.
    const byRun = new Map<string, AgentEvent[]>();
    for (const { event } of stored) {
      if (event.run_id === null) continue;
      const list = byRun.get(event.run_id);
      if (list) list.push(event);
      else byRun.set(event.run_id, [event]);
    }
    for (const [runId, events] of byRun) this.runs.observe(runId, events);
    return {
      durable: [...stored.map((s) => s.event.event_id), ...duplicates.map((d) => d.event_id)],
      stored: stored.length,
      duplicates: duplicates.length,
      rejected,
    };
  }

  private refusal(event: AgentEvent, source: IngestSource, oldest: number): ValidationIssue | null {
    if (event.tenant !== this.ctx.tenant)
      return issue(
        "tenant",
        this.ctx.tenant,
        `events sent to tenant ${this.ctx.tenant} must carry it`,
      );
    if (source.kind === "central") {
      if (event.source !== "central")
        return issue("source", "central", "central records only its own events");
    } else if (event.source !== "edge" || event.agent_id === CENTRAL_AGENT_ID)
      return issue("source", "edge", "only central emits central events");
    if (source.kind === "socket" && event.agent_id !== source.agentId)
      return issue(
        "agent_id",
        source.agentId,
        `this connection is agent ${source.agentId}; it sends only its own events`,
      );
    if (source.kind !== "central") {
      if (isCentralKind(event.kind))
        return issue("kind", "a kind agents emit", `only central emits ${event.kind} events`);
      const life = event.run_id === null ? undefined : this.runs.life(event.run_id);
      if (life && !hearsFrom(life, event.agent_id))
        return issue(
          "agent_id",
          life.owner === "central" ? "an agent the run was dispatched to" : "the run's agent",
          `run ${event.run_id} was never given to ${event.agent_id}`,
        );
    }
    if (source.kind === "http" && source.keyApp !== null) {
      const agent = this.agents.get(event.agent_id);
      if (agent?.app !== source.keyApp)
        return issue(
          "agent_id",
          `an agent of app ${source.keyApp}`,
          `this key is limited to app ${source.keyApp}; ${event.agent_id} is not a registered agent of it`,
        );
    }
    if (uuidv7Time(event.event_id) < oldest)
      return issue(
        "event_id",
        "an event id inside the dedupe window",
        "the event is older than the dedupe window, so it could not be stored exactly once",
      );
    return null;
  }
}

function issue(path: string, expected: string, message: string): ValidationIssue {
  return { path, expected, message, code: "refused" };
}

function idOf(raw: unknown): string | null {
  if (raw && typeof raw === "object" && "event_id" in raw) {
    const id = (raw as { event_id: unknown }).event_id;
    if (typeof id === "string") return id.slice(0, 128);
  }
  return null;
}
