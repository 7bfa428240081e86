import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, spawnManaged, waitHealthy } from "../cli/local-stack/processes";
import { centralWorkerSettings } from "../test/helpers/central-workerd";
import { type Served, serveWorkerdAlone } from "./workerd-alone";

/**
 * The floors of the two runtimes in the gateway comparison: a server that only forwards each
 * request to the mock provider and relays its answer, nothing else (no key, no route, no
 * parsing of either body), once as a Worker in workerd alone and once as a Node process
 * (Portkey's runtime). What a gateway adds beyond its runtime's floor is its own work; the
 * floor itself is the runtime's, on this machine. Both are up when the mock's `GET /health`
 * answers through them.
 */
const NODE_FORWARDER = fileURLToPath(new URL("./gateway-floor-node.mjs", import.meta.url));

export function startWorkerdForwarder(upstream: string): Promise<Served> {
  // The body is read whole, as a gateway must to see the request, and sent on with its length;
  // the answer is relayed as workerd received it.
  const worker = `export default {
  async fetch(request) {
    const body = await request.text();
    return fetch(${JSON.stringify(upstream)} + new URL(request.url).pathname, {
      method: request.method,
      headers: {
        "content-type": request.headers.get("content-type") ?? "application/json",
        authorization: request.headers.get("authorization") ?? "",
      },
      body: body || undefined,
    });
  },
};`;
  return serveWorkerdAlone(
    "workerd forwarder",
    mkdtempSync(join(tmpdir(), "auraison-bench-floor-")),
    (port) => `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "forwarder", worker = (
      modules = [(name = "forwarder.js", esModule = ${JSON.stringify(worker)})],
      compatibilityDate = ${JSON.stringify(centralWorkerSettings().compatibilityDate)},
    )),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "forwarder")],
);
`,
    "/health",
  );
}

export async function startNodeForwarder(upstream: string): Promise<Served> {
  const port = await freePort();
  const proc = spawnManaged("Node forwarder", process.execPath, [
    NODE_FORWARDER,
    String(port),
    upstream,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/health`, proc, 30_000);
  return { url, pid: proc.child.pid!, stop: async () => void (await proc.stop("SIGKILL", 0)) };
}
