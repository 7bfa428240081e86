import { describe, expect, it } from "vitest";
import { AgentList } from "../../../../contract";
import { call, connectAgent, json, newKey, newTenant } from "../../support";

describe("GET /v1/agents", () => {
  it("pages agents by id: next is the after of the next page", async () => {
    const { tenant, admin } = await newTenant("fl");
    const key = (await newKey(admin, "agent")).key;
    for (const id of ["c", "a", "b"]) await connectAgent(key, tenant, id);
    const page = async (query: string) =>
      AgentList.parse(await json(await call("GET", `/v1/agents${query}`, { key: admin }), 200));
    const first = await page("?limit=2");
    expect(first.agents.map((a) => a.agent_id)).toEqual(["a", "b"]);
    expect(first.next).toBe("b");
    const rest = await page(`?limit=2&after=${first.next}`);
    expect(rest).toMatchObject({ agents: [{ agent_id: "c" }], next: null });
    expect((await page("")).agents).toHaveLength(3);
    const bad = await call("GET", "/v1/agents?limit=0", { key: admin });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { issues: [{ path: "limit" }] } });
  });
});
