import WebSocket from "ws";
import type { z } from "zod";
import {
  type AgentRegistration,
  CentralMessage,
  check,
  type EdgeMessage,
  isCompatibleContract,
  PATHS,
  type WelcomeMessage,
} from "../../contract";
import { Backoff, websocketUrl } from "./backoff";

export type Welcome = z.output<typeof WelcomeMessage>;
export type FromCentral = z.output<typeof CentralMessage>;

export interface LinkOptions {
  url: string;
  key: string;
  registration: () => AgentRegistration;
  /** Runs this agent holds, announced in every hello. */
  holding: () => Array<{ run_id: string; attempt: number }>;
  onWelcome: (welcome: Welcome) => void;
  onMessage: (message: FromCentral) => void;
  onDisconnect: (reason: string) => void;
  log: (line: string) => void;
  backoff?: Backoff;
  /** How long to wait for `welcome` after the socket opens. */
  welcomeTimeoutMs?: number;
}

/** Close codes after which reconnecting cannot help until someone changes something. */
const FATAL_CLOSES: Record<number, string> = {
  4001: "the agent key was revoked",
  4003: "the agent key may not register this agent",
  4009: "another agent with the same agent id connected",
  4010: "central speaks an incompatible contract version",
};

/**
 * The agent's WebSocket to its tenant's Durable Object (contract/wire.ts): connects with the
 * agent key, says hello (registration and the runs it holds), and after `welcome` passes
 * central's messages on. A lost connection is retried with exponential backoff and jitter,
 * forever, except after a close that no retry can fix; the agent keeps working meanwhile.
 */
export class CentralLink {
  private socket: WebSocket | null = null;
  private welcome: Welcome | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly backoff: Backoff;
  lastError: string | null = null;

  constructor(private readonly options: LinkOptions) {
    this.backoff = options.backoff ?? new Backoff();
  }

  get connected(): boolean {
    return this.welcome !== null && this.socket?.readyState === WebSocket.OPEN;
  }

  get session(): Welcome | null {
    return this.welcome;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Sends a message if connected; false when it could not be sent. */
  send(message: EdgeMessage): boolean {
    if (!this.connected || !this.socket) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Drops the current connection and reconnects (after a protocol stall). */
  reconnect(reason: string): void {
    this.socket?.terminate();
    this.lost(reason);
  }

  /**
   * Says goodbye (when connected) and closes for good. Central closes the socket once it has
   * recorded the goodbye, so that close is awaited first: closing at once could let the close
   * overtake the goodbye on the way (through a proxy), and central would see a lost agent
   * (degraded, then disconnected) instead of one that stopped.
   */
  async stop(reason: string): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const socket = this.socket;
    if (!socket) return;
    const closed = new Promise<void>((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) resolve();
      else socket.once("close", () => resolve());
    });
    const within = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        void closed.then(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    if (this.connected) {
      socket.send(JSON.stringify({ type: "goodbye", reason }));
      if (await within(2_000)) return;
    }
    socket.close(1000, reason);
    if (!(await within(2_000))) socket.terminate();
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = new WebSocket(websocketUrl(this.options.url, PATHS.agentConnect), {
      headers: { authorization: `Bearer ${this.options.key}` },
      handshakeTimeout: 10_000,
    });
    this.socket = socket;
    let welcomeTimer: NodeJS.Timeout | null = null;
    socket.on("open", () => {
      socket.send(
        JSON.stringify({
          type: "hello",
          registration: this.options.registration(),
          holding: this.options.holding(),
        }),
      );
      welcomeTimer = setTimeout(
        () => this.reconnect("no welcome from central"),
        this.options.welcomeTimeoutMs ?? 10_000,
      );
    });
    socket.on("message", (data) => {
      if (socket !== this.socket) return;
      const message = this.parse(data.toString());
      if (!message) return;
      if (message.type === "welcome") {
        if (welcomeTimer) clearTimeout(welcomeTimer);
        if (!isCompatibleContract(message.contract_version)) {
          this.lastError = `central speaks contract ${message.contract_version}`;
          this.options.log(`${this.lastError}, which this agent cannot; not reconnecting`);
          this.stopped = true;
          socket.close(1000, "incompatible contract");
          return;
        }
        this.welcome = message;
        this.lastError = null;
        this.backoff.reset();
        this.options.onWelcome(message);
        return;
      }
      if (!this.welcome) return;
      this.options.onMessage(message);
    });
    socket.on("unexpected-response", (_req, res) => {
      this.lastError = `central refused the connection: HTTP ${res.statusCode}`;
      if (res.statusCode === 401 || res.statusCode === 403)
        this.lastError += " (check the agent key)";
      socket.terminate();
    });
    socket.on("error", (error) => {
      this.lastError ??= error.message;
    });
    socket.on("close", (code, reason) => {
      if (welcomeTimer) clearTimeout(welcomeTimer);
      if (socket !== this.socket) return;
      const fatal = FATAL_CLOSES[code];
      if (fatal) {
        this.lastError = `${fatal} (${reason.toString() || code})`;
        this.options.log(`${this.lastError}; not reconnecting`);
        this.stopped = true;
      }
      this.lost(this.lastError ?? `closed (${code}${reason.length ? ` ${reason}` : ""})`);
    });
  }

  private lost(reason: string): void {
    const wasConnected = this.welcome !== null;
    this.welcome = null;
    this.socket = null;
    if (wasConnected) this.options.onDisconnect(reason);
    if (this.stopped || this.timer) return;
    const delay = this.backoff.next();
    this.options.log(`central unreachable (${reason}); retrying in ${delay} ms`);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private parse(text: string): FromCentral | null {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.options.log("ignoring a frame from central that is not JSON");
      return null;
    }
    const parsed = check(CentralMessage, json);
    if (parsed.ok) return parsed.value;
    const type = (json as { type?: unknown } | null)?.type;
    this.options.log(
      `ignoring a ${typeof type === "string" ? `'${type}'` : "typeless"} message from central: ${parsed.issues
        .slice(0, 3)
        .map((i) => `${i.path}: ${i.message}`)
        .join("; ")}`,
    );
    return null;
  }
}
