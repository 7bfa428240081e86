import {
  type AgentEvent,
  CENTRAL_AGENT_ID,
  type EventKind,
  type EventPayload,
  uuidv7,
} from "../../contract";
import type { RunRow } from "../runs/run-store";
import { iso } from "../tenant/context";
import type { EventLog } from "./event-log";

/**
 * Events central decides itself (dispatch, lease expiry, failures and cancellations it rules on)
 * go into the same log as the edge's, with `source: "central"` and agent id `central`. `seq`
 * counts central's events per run; the caller saves the run row it advanced.
 */
export class CentralEvents {
  constructor(
    private readonly tenant: string,
    private readonly log: EventLog,
    private readonly now: () => number,
  ) {}

  emit<K extends EventKind>(run: RunRow, kind: K, payload: EventPayload<K>): AgentEvent {
    const event = {
      event_id: uuidv7(),
      tenant: this.tenant,
      run_id: run.runId,
      agent_id: CENTRAL_AGENT_ID,
      source: "central",
      seq: run.centralSeq,
      attempt: run.attempt > 0 ? run.attempt : null,
      kind,
      payload,
      ts: iso(this.now()),
    } as AgentEvent;
    run.centralSeq += 1;
    this.log.append([event]);
    return event;
  }
}
