import type WebSocket from "ws";
import type { Clock } from "../../timers";

/** How often a connection is pinged, and how long its pong may take. */
export interface KeepaliveTiming {
  interval_ms: number;
  pong_timeout_ms: number;
}

export const KEEPALIVE: KeepaliveTiming = { interval_ms: 5_000, pong_timeout_ms: 5_000 };

/**
 * Watches one connection for a path that went silent without a FIN or RST (a robot out of
 * Wi-Fi range, a NAT that forgot the flow), which TCP alone notices only after many minutes:
 * a ping every interval, and `onSilent` when its pong is not back by the deadline. It counts
 * every frame heard, so that a caller can tell whether anything came since it sent a request.
 */
export class Keepalive {
  /** Frames heard so far: messages and pongs. */
  heard = 0;
  private timer: unknown;
  private awaitingPong = false;
  private stopped = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly timing: KeepaliveTiming,
    private readonly timers: Clock,
    private readonly onSilent: (reason: string) => void,
  ) {
    socket.on("message", () => {
      this.heard += 1;
    });
    socket.on("pong", () => {
      this.heard += 1;
      if (!this.awaitingPong) return;
      this.awaitingPong = false;
      this.timers.clear(this.timer);
      this.schedulePing();
    });
    this.schedulePing();
  }

  stop(): void {
    this.stopped = true;
    this.timers.clear(this.timer);
  }

  private schedulePing(): void {
    if (this.stopped) return;
    this.timer = this.timers.set(() => {
      this.awaitingPong = true;
      this.socket.ping();
      this.timer = this.timers.set(
        () => this.onSilent(`no pong within ${this.timing.pong_timeout_ms} ms of a ping`),
        this.timing.pong_timeout_ms,
      );
    }, this.timing.interval_ms);
  }
}
