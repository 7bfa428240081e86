import { describe, expect, it } from "vitest";
import { selectAgent } from "../../../central/dispatch/select";
import type { AgentRow } from "../../../central/fleet/agent-store";

function agent(agentId: string, extra: Partial<AgentRow> = {}): AgentRow {
  return {
    agentId,
    app: "lab-notes",
    status: "online",
    statusSince: 0,
    skills: [
      { name: "summarize", description: "d", app: "lab-notes", tools: [], version: "1.0.0" },
    ],
    capabilities: ["fs"],
    harness: { name: "pi", version: "0.73.1" },
    agentVersion: "1",
    contractVersion: "1.0.0",
    maxConcurrency: 2,
    keyId: "k",
    connectionId: `c-${agentId}`,
    connectedAt: 0,
    disconnectedAt: null,
    lastHeartbeatAt: null,
    lastSeenAt: 0,
    outboxPending: 0,
    draining: false,
    lastDispatchedAt: null,
    registeredAt: 0,
    ...extra,
  };
}

describe("selectAgent", () => {
  it("prefers the least busy relative to capacity, then the one dispatched to longest ago", () => {
    const agents = [agent("a", { maxConcurrency: 4 }), agent("b", { maxConcurrency: 1 })];
    expect(
      selectAgent({ targets: [{ app: "lab-notes" }] }, agents, new Map([["a", 1]]))?.agentId,
    ).toBe("b");
    expect(
      selectAgent(
        { targets: [{ app: "lab-notes" }] },
        agents,
        new Map([
          ["a", 1],
          ["b", 1],
        ]),
      )?.agentId,
    ).toBe("a");
    const tied = [agent("x", { lastDispatchedAt: 20 }), agent("y", { lastDispatchedAt: 10 })];
    expect(selectAgent({ targets: [{ app: "lab-notes" }] }, tied, new Map())?.agentId).toBe("y");
  });

  it("skips agents that are not taking work, are full or do not match", () => {
    const agents = [
      agent("draining", { status: "draining" }),
      agent("degraded", { status: "degraded" }),
      agent("gone", { connectionId: null }),
      agent("full", { maxConcurrency: 1 }),
      agent("robot", { app: "turtlebot" }),
    ];
    expect(
      selectAgent({ targets: [{ app: "lab-notes" }] }, agents, new Map([["full", 1]])),
    ).toBeNull();
    expect(selectAgent({ targets: [{ app: "turtlebot" }] }, agents, new Map())?.agentId).toBe(
      "robot",
    );
  });

  it("tries targets in order, matches skills and every capability, and prefers untried agents on retry", () => {
    const agents = [agent("a", { capabilities: ["fs", "gpu"] }), agent("b")];
    expect(
      selectAgent({ targets: [{ agent_id: "zz" }, { agent_id: "b" }] }, agents, new Map())?.agentId,
    ).toBe("b");
    expect(
      selectAgent({ targets: [{ capabilities: ["gpu", "fs"] }] }, agents, new Map())?.agentId,
    ).toBe("a");
    expect(
      selectAgent({ targets: [{ skill: "summarize", app: "lab-notes" }] }, agents, new Map(), ["a"])
        ?.agentId,
    ).toBe("b");
    expect(selectAgent({ targets: [{ skill: "translate" }] }, agents, new Map())).toBeNull();
    expect(selectAgent({ targets: [{ agent_id: "a" }] }, agents, new Map(), ["a"])?.agentId).toBe(
      "a",
    );
  });
});
