import type { z } from "zod";
import {
  AgentEvent,
  check,
  type EVENT_PAYLOADS,
  type EventKind,
  nowTs,
  redact,
  redactedExcerpt,
  uuidv7,
} from "../../contract";
import type { EventSink } from "./event-sink";

export type PayloadInput<K extends EventKind> = z.input<(typeof EVENT_PAYLOADS)[K]>;

export interface EmitterIdentity {
  tenant: string;
  agent_id: string;
  /** null for agent-level events (an agent's own errors). */
  run_id: string | null;
  attempt: number | null;
}

/**
 * Stamps events for one emitter (one run attempt, or the agent itself) with ids, time and a
 * gap-free seq, checks them against the contract, redacts secrets, and appends them to the
 * event log. An event
 * that would not validate is a bug here; it is replaced by an `error` event naming the problem,
 * so nothing is silently dropped and central never sees a malformed event.
 */
export class Emitter {
  private seq: number;

  constructor(
    private readonly log: EventSink,
    readonly identity: EmitterIdentity,
    nextSeq = 0,
    /** Sees each event once it is logged (a run's view folds them in). */
    private readonly observe: (event: AgentEvent) => void = () => {},
  ) {
    this.seq = nextSeq;
  }

  get nextSeq(): number {
    return this.seq;
  }

  emit<K extends EventKind>(kind: K, payload: PayloadInput<K>): Promise<AgentEvent> {
    const envelope = {
      event_id: uuidv7(),
      tenant: this.identity.tenant,
      run_id: this.identity.run_id,
      agent_id: this.identity.agent_id,
      source: "edge" as const,
      seq: this.seq++,
      attempt: this.identity.attempt,
      ts: nowTs(),
    };
    const checked = check(AgentEvent, { ...envelope, kind, payload });
    // Secrets are masked here, before the event is written anywhere (outbox, followers, central):
    // the last pass over every event, whatever its producer redacted before cutting text.
    const event: AgentEvent = redact(
      checked.ok
        ? checked.value
        : (AgentEvent.parse({
            ...envelope,
            kind: "error",
            payload: {
              category: "internal",
              code: "invalid_event",
              message: redactedExcerpt(
                `the edge produced an invalid ${kind} event: ${checked.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
                4096,
              ),
              fatal: false,
              detail: { kind, issues: checked.issues.slice(0, 20).map((i) => ({ ...i })) },
            },
          }) as AgentEvent),
    );
    return this.log.append(event).then(() => {
      this.observe(event);
      return event;
    });
  }
}
