import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allAgents } from "../../cli/fleet-agents";
import { type AgentInfo, CentralClient } from "../../contract";
import { type FakeCentral, startFakeCentral } from "../helpers/fake-central";

const agent = (agent_id: string): AgentInfo => ({
  agent_id,
  app: "lab-notes",
  status: "online",
  skills: [],
  capabilities: [],
  harness: { name: "pi", version: "1" },
  agent_version: "0.1.0",
  max_concurrency: 1,
  running: [],
  connected_at: null,
  last_heartbeat_at: null,
  status_since: "2026-12-08T00:00:00.000Z",
});

/** Central's agent list in pages of two, by agent id. */
let central: FakeCentral;
beforeAll(async () => {
  const ids = ["a1", "a2", "a3", "a4", "a5"];
  central = await startFakeCentral((req, res) => {
    const after = new URL(req.url ?? "", "http://central").searchParams.get("after");
    const from = after === null ? 0 : ids.indexOf(after) + 1;
    const page = ids.slice(from, from + 2);
    const next = from + 2 < ids.length ? page.at(-1)! : null;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ agents: page.map(agent), next }));
  });
});
afterAll(() => central.down());

describe("the tenant's agents", () => {
  it("are read page after page, past the first", async () => {
    const client = new CentralClient({ url: central.url, key: "k" });
    const agents = await allAgents(client);
    expect(agents.map((a) => a.agent_id)).toEqual(["a1", "a2", "a3", "a4", "a5"]);
    expect(central.requests.map((r) => r.url)).toEqual([
      "/v1/agents?limit=500",
      "/v1/agents?limit=500&after=a2",
      "/v1/agents?limit=500&after=a4",
    ]);
  });
});
