import type { z } from "zod";
import { type EventsAckMessage, LIMITS, uuidv7 } from "../../contract";
import type { Outbox } from "../outbox/outbox";
import type { CentralLink } from "./link";

const MAX_BATCH_BYTES = 512 * 1024;
const ACK_TIMEOUT_MS = 30_000;

export interface DeliveryOptions {
  batchEvents?: number;
  log: (line: string) => void;
}

/**
 * Sends the outbox to central in order, one batch in flight, and advances the delivered mark
 * only on central's `events_ack`. After a reconnect it starts again from the mark, so a batch
 * lost with a connection is simply sent again; central's dedupe by event_id makes that
 * exactly-once in its log.
 */
export class EventDelivery {
  private inflight: { batchId: string; next: number; timer: NodeJS.Timeout } | null = null;
  private pumping = false;
  private readonly batchEvents: number;

  constructor(
    private readonly outbox: Outbox,
    private readonly link: CentralLink,
    private readonly options: DeliveryOptions,
  ) {
    this.batchEvents = Math.min(options.batchEvents ?? 500, LIMITS.batchEvents);
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
    if (ack.rejected.length > 0) {
      for (const r of ack.rejected)
        this.options.log(
          `central rejected event ${r.event_id ?? `#${r.index}`}: ${r.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
        );
    }
    void this.outbox.markDelivered(inflight.next).then(() => this.pump());
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
    if (this.pumping || this.inflight || !this.link.connected) return;
    this.pumping = true;
    try {
      const from = this.outbox.delivered;
      if (from >= this.outbox.size) return;
      const { events, next } = await this.outbox.read(from, this.batchEvents, MAX_BATCH_BYTES);
      // Corrupt lines in the range are passed over for good (there is nothing to send).
      if (events.length === 0) {
        if (next > from) await this.outbox.markDelivered(next);
        return;
      }
      const batchId = uuidv7();
      if (!this.link.send({ type: "events", batch_id: batchId, events })) return;
      this.inflight = {
        batchId,
        next,
        timer: setTimeout(() => {
          this.options.log(
            `no events_ack for batch ${batchId} in ${ACK_TIMEOUT_MS} ms; reconnecting`,
          );
          this.link.reconnect("events_ack timeout");
        }, ACK_TIMEOUT_MS),
      };
    } finally {
      this.pumping = false;
    }
  }
}
