import { CENTRAL_PRINCIPAL } from "../../auth/principal";
import type { EventLog } from "../../events/event-log";

/** How long a planning call waits for the gateway to price it before it counts as unpriced. */
const SETTLE_WAIT_MS = 10_000;
/** Prices remembered for calls nobody waits for yet (settlement can come before the answer is read). */
const REMEMBERED = 256;

/**
 * What the gateway charged for central's own model calls. The gateway prices a call when it
 * settles it with the tenant object, after the caller has its answer, and says the price in the
 * call's `model_call` event, not in the answer: so central's planner learns it here, from that
 * event as the tenant's log stores it, by the answer's `x-auraison-call-id`.
 */
export class CentralCallCosts {
  private readonly priced = new Map<string, number | null>();
  private readonly waiting = new Map<string, (cost: number | null) => void>();

  constructor(
    log: EventLog,
    private readonly waitMs = SETTLE_WAIT_MS,
  ) {
    log.onAppend((records) => {
      for (const { event } of records) {
        if (event.kind !== "model_call") continue;
        const call = event.payload;
        if (call.observer !== "gateway" || call.key_id !== CENTRAL_PRINCIPAL) continue;
        this.settled(call.call_id, call.cost_usd);
      }
    });
  }

  /** The call's price in USD; null when it is unpriced or not settled within the wait. */
  cost(callId: string): Promise<number | null> {
    if (this.priced.has(callId)) {
      const cost = this.priced.get(callId)!;
      this.priced.delete(callId);
      return Promise.resolve(cost);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(callId);
        resolve(null);
      }, this.waitMs);
      this.waiting.set(callId, (cost) => {
        clearTimeout(timer);
        this.waiting.delete(callId);
        resolve(cost);
      });
    });
  }

  private settled(callId: string, cost: number | null): void {
    const waiter = this.waiting.get(callId);
    if (waiter) {
      waiter(cost);
      return;
    }
    this.priced.set(callId, cost);
    if (this.priced.size > REMEMBERED) this.priced.delete(this.priced.keys().next().value!);
  }
}
