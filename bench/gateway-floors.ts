import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/helpers/central-dev";
import { type Served, serveWorkerdAlone, spawnServer } from "./workerd-alone";

/**
 * The floors of the two runtimes in the gateway comparison: a server that only forwards each
 * request to the mock provider and relays its answer, nothing else (no key, no route, no
 * parsing of either body), once as a Worker in workerd alone and once as a Node process
 * (Portkey's runtime). What a gateway adds beyond its runtime's floor is its own work; the
 * floor itself is the runtime's, on this machine.
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
      compatibilityDate = "2026-04-20",
    )),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "forwarder")],
);
`,
  );
}

export async function startNodeForwarder(upstream: string): Promise<Served> {
  const port = await freePort();
  return spawnServer("Node forwarder", process.execPath, [NODE_FORWARDER, String(port), upstream], {
    port,
  });
}
