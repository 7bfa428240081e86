import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A stand-in for central on 127.0.0.1 that answers as the test says, and can go down. */
export interface FakeCentral {
  url: string;
  /** Every request's method, path and Last-Event-ID, in order. */
  requests: Array<{ method: string; url: string; lastEventId: string | null }>;
  /** Stops listening and cuts every open connection, as a central going down does. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

export async function startFakeCentral(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<FakeCentral> {
  const requests: FakeCentral["requests"] = [];
  const server = createServer((req, res) => {
    const header = req.headers["last-event-id"];
    requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      lastEventId: typeof header === "string" ? header : null,
    });
    handle(req, res);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    down: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    up: () => listen(port),
  };
}

/** Starts an SSE answer: 200, text/event-stream, and `opening` (central's `retry:` line). */
export function sseStart(res: ServerResponse, opening = "retry: 1000\n\n"): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.write(opening);
}

/** One stored event as central's stream sends it. */
export function sseEvent(cursor: number, event: Record<string, unknown>): string {
  return `id: ${cursor}\nevent: event\ndata: ${JSON.stringify({ ...event, cursor })}\n\n`;
}
