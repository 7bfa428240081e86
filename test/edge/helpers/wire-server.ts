import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import {
  AgentEvent,
  type CentralMessage,
  CONTRACT_VERSION,
  check,
  EdgeMessage,
  nowTs,
  PATHS,
} from "../../../contract";

type Edge = ReturnType<typeof EdgeMessage.parse>;

/**
 * A WebSocket peer speaking contract/wire.ts from central's side, with central's ingest
 * semantics (validate each event, dedupe by event_id). It exercises the edge's link protocol
 * (reconnects, redelivery, malformed dispatches) before and besides the real central.
 */
export async function wireServer(
  options: {
    heartbeatMs?: number;
    key?: string;
    port?: number;
    /** How long a claim's lease lasts (60 s unless set). */
    leaseMs?: number;
    /** Renew the leases of the runs a hello or a heartbeat names, as central does. */
    renew?: boolean;
  } = {},
) {
  let leaseMs = options.leaseMs ?? 60_000;
  let renew = options.renew ?? false;
  const received: Edge[] = [];
  const stored = new Map<string, AgentEvent>();
  const order: string[] = [];
  let socket: WebSocket | null = null;
  let connections = 0;
  let ackEvents = true;
  const waiters: Array<() => void> = [];
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true });
  http.on("upgrade", (req: IncomingMessage, sock, head) => {
    if (
      req.url !== PATHS.agentConnect ||
      req.headers.authorization !== `Bearer ${options.key ?? "test-key"}`
    ) {
      sock.write("HTTP/1.1 401 Unauthorized\r\n\r\n");
      sock.destroy();
      return;
    }
    wss.handleUpgrade(req, sock, head, (ws) => {
      connections += 1;
      socket = ws;
      ws.on("message", (data) => {
        const parsed = check(EdgeMessage, JSON.parse(data.toString()));
        if (!parsed.ok)
          throw new Error(`edge sent an invalid message: ${JSON.stringify(parsed.issues)}`);
        const message = parsed.value;
        received.push(message);
        if (message.type === "hello") {
          send({
            type: "welcome",
            tenant: "lab",
            agent_id: message.registration.agent_id,
            contract_version: CONTRACT_VERSION,
            heartbeat_interval_ms: options.heartbeatMs ?? 60_000,
            lease_ms: 60_000,
            server_time: nowTs(),
          });
        }
        // Like central: the goodbye recorded, the socket is closed from this side.
        if (message.type === "goodbye") ws.close(1000, "goodbye");
        if (message.type === "events") {
          const ids: string[] = [];
          let duplicates = 0;
          const rejected: Array<{ index: number; event_id: string | null; issues: [] }> = [];
          message.events.forEach((raw, index) => {
            const event = check(AgentEvent, raw);
            if (!event.ok) {
              rejected.push({ index, event_id: null, issues: [] });
              return;
            }
            ids.push(event.value.event_id);
            if (stored.has(event.value.event_id)) duplicates += 1;
            else {
              stored.set(event.value.event_id, event.value);
              order.push(event.value.event_id);
            }
          });
          if (ackEvents)
            send({
              type: "events_ack",
              batch_id: message.batch_id,
              stored: ids,
              duplicates,
              rejected,
            });
        }
        if (message.type === "claim")
          send({
            type: "claimed",
            run_id: message.run_id,
            attempt: message.attempt,
            lease_expires_at: nowTs(Date.now() + leaseMs),
          });
        const held =
          message.type === "heartbeat"
            ? message.running
            : message.type === "hello"
              ? message.holding
              : [];
        if (renew)
          for (const { run_id, attempt } of held)
            send({ type: "lease", run_id, attempt, lease_expires_at: nowTs(Date.now() + leaseMs) });
        for (const w of waiters.splice(0)) w();
      });
    });
  });
  await new Promise<void>((resolve) =>
    http.listen(options.port ?? 0, "127.0.0.1", () => resolve()),
  );
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  function send(message: CentralMessage | Record<string, unknown>) {
    socket?.send(JSON.stringify(message));
  }

  return {
    url,
    port: (http.address() as AddressInfo).port,
    received,
    /** Events as central's log would hold them, in first-arrival order. */
    log: () => order.map((id) => stored.get(id)!),
    get connections() {
      return connections;
    },
    send,
    /** Leases granted from now on last `ms`. */
    setLeaseMs(ms: number) {
      leaseMs = ms;
    },
    /** Renew leases from now on (or stop renewing them). */
    setRenew(on: boolean) {
      renew = on;
    },
    /** Store event batches but stop acknowledging them (acks lost on the way). */
    holdAcks(hold: boolean) {
      ackEvents = !hold;
    },
    /** Drop the agent's connection abruptly. */
    drop() {
      socket?.terminate();
      socket = null;
    },
    async waitFor(predicate: () => boolean, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error("timed out waiting on the wire");
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 25);
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
