import type { AgentEvent } from "../../contract";
import type { Outbox } from "../outbox/outbox";

export type EventListener = (event: AgentEvent) => void;

/**
 * Where every event the edge produces goes: first durably into the outbox, then to live
 * listeners (the central link's delivery, local RPC followers). Nothing sees an event that a
 * crash could still take back.
 */
export class EventSink {
  private listeners = new Set<EventListener>();

  constructor(readonly outbox: Outbox) {}

  async append(event: AgentEvent): Promise<void> {
    await this.outbox.append(event);
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
