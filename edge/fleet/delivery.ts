import type { z } from "zod";
import { type AgentEvent, type EventsAckMessage, LIMITS, uuidv7 } from "../../contract";
import type { Outbox } from "../outbox/outbox";
import type { RejectedEvents } from "../outbox/rejected";
import { STANDALONE_TENANT } from "../runtime";
import type { CentralLink } from "./link";

const MAX_BATCH_BYTES = 512 * 1024;
const ACK_TIMEOUT_MS = 30_000;

export interface DeliveryOptions {
  batchEvents?: number;
  /** Where events central refuses for good are kept (delivery moves past them). */
  rejected: RejectedEvents;
  /** How long a batch whose refused events could not be kept waits to be sent again. */
  retryMs?: number;
  log: (line: string) => void;
}

/**
 * Sends the outbox to central in order, one batch in flight, and advances the delivered mark
 * only on central's `events_ack`. After a reconnect it starts again from the mark, so a batch
 * lost with a connection is simply sent again; central's dedupe by event_id makes that
 * exactly-once in its log.
 */
export class EventDelivery {
  private inflight: {
    batchId: string;
    events: AgentEvent[];
    next: number;
    timer: NodeJS.Timeout;
  } | null = null;
  private pumping = false;
  /** A batch is settling, or waits to be sent again. */
  private held = false;
  private readonly retryMs: number;
  private readonly batchEvents: number;

  constructor(
    private readonly outbox: Outbox,
    private readonly link: CentralLink,
    private readonly options: DeliveryOptions,
  ) {
    this.batchEvents = Math.min(options.batchEvents ?? 500, LIMITS.batchEvents);
    this.retryMs = options.retryMs ?? 5_000;
    outbox.onAppend(() => void this.pump());
  }

  /** The link is (re)connected: start over from what central acknowledged. */
  connected(): void {
    this.reset();
    void this.pump();
  }

  disconnected(): void {
    this.reset();
  }

  acknowledged(ack: z.output<typeof EventsAckMessage>): void {
    const inflight = this.inflight;
    if (!inflight || ack.batch_id !== inflight.batchId) return;
    clearTimeout(inflight.timer);
    this.inflight = null;
    // Nothing is sent while the batch settles (the mark has not moved yet), nor, if it could
    // not settle, for a while: sent again at once it would be refused again in a tight loop.
    this.held = true;
    void this.settle(inflight, ack.rejected).then((settled) => {
      if (settled) this.release();
      else setTimeout(() => this.release(), this.retryMs).unref();
    });
  }

  private release(): void {
    this.held = false;
    void this.pump();
  }

  /**
   * Moves the delivered mark past an acknowledged batch, once what central refused in it is kept
   * in the rejected file (if that fails, the mark stays and the batch is sent again later:
   * central stores each event once and refuses the same ones again). A mark that failed to save
   * only costs re-sending the batch later. False when the batch must be sent again.
   */
  private async settle(
    inflight: { events: AgentEvent[]; next: number },
    rejected: z.output<typeof EventsAckMessage>["rejected"],
  ): Promise<boolean> {
    const refused = rejected.flatMap((r) => {
      const event = inflight.events[r.index];
      return event ? [{ event, issues: r.issues }] : [];
    });
    for (const { event, issues } of refused)
      this.options.log(
        `central rejected event ${event.event_id} (kept in ${this.options.rejected.path}): ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
      );
    const why = (error: unknown) => (error instanceof Error ? error.message : String(error));
    try {
      if (refused.length > 0) await this.options.rejected.add(refused);
    } catch (error) {
      this.options.log(
        `could not keep the events central refused (the batch is sent again in ${this.retryMs} ms): ${why(error)}`,
      );
      return false;
    }
    await this.outbox
      .markDelivered(inflight.next)
      .catch((error) =>
        this.options.log(
          `could not save the delivered mark (events may be sent again): ${why(error)}`,
        ),
      );
    return true;
  }

  /** Resolves once everything appended so far is acknowledged, or after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.outbox.pending === 0) return true;
      if (!this.link.connected) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return this.outbox.pending === 0;
  }

  private reset(): void {
    if (this.inflight) clearTimeout(this.inflight.timer);
    this.inflight = null;
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.inflight || this.held || !this.link.connected) return;
    this.pumping = true;
    try {
      let from = this.outbox.delivered;
      while (from < this.outbox.size) {
        const read = await this.outbox.read(from, this.batchEvents, MAX_BATCH_BYTES);
        // Corrupt lines in the range are passed over for good (there is nothing to send).
        if (read.events.length === 0) {
          if (read.next <= from) return;
          await this.outbox.markDelivered(read.next);
          from = read.next;
          continue;
        }
        const tenant = this.link.session?.tenant;
        // What an agent ran on its own (`edge run` with no central) belongs to the tenant of
        // the central it first delivers to.
        const events =
          tenant === undefined
            ? read.events
            : read.events.map((e) =>
                e.tenant === STANDALONE_TENANT && tenant !== STANDALONE_TENANT
                  ? { ...e, tenant }
                  : e,
              );
        const batchId = uuidv7();
        if (!this.link.send({ type: "events", batch_id: batchId, events })) return;
        this.inflight = {
          batchId,
          events,
          next: read.next,
          timer: setTimeout(() => {
            this.options.log(
              `no events_ack for batch ${batchId} in ${ACK_TIMEOUT_MS} ms; reconnecting`,
            );
            this.link.reconnect("events_ack timeout");
          }, ACK_TIMEOUT_MS),
        };
        return;
      }
    } catch (error) {
      // Left unhandled, a failed read would end the agent and its runs; the next append,
      // acknowledgement or reconnect tries again.
      this.options.log(
        `could not read the outbox to deliver it: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      this.pumping = false;
    }
  }
}
