import { describe, expect, it } from "vitest";
import { readSse, type SseMessage } from "../../../cli/sse";
import { StoredEvent } from "../../../contract";
import { central, connectAgent, newKey, newTenant, submit, usage } from "../support";

async function open(key: string, query: string, lastEventId?: string) {
  const response = await central(
    new Request(`http://central/v1/events/stream${query}`, {
      headers: {
        authorization: `Bearer ${key}`,
        accept: "text/event-stream",
        ...(lastEventId ? { "last-event-id": lastEventId } : {}),
      },
    }),
  );
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  return { response, messages: readSse(response.body!)[Symbol.asyncIterator]() };
}

async function take(messages: AsyncIterator<SseMessage>, n: number): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  while (out.length < n) {
    const next = await messages.next();
    if (next.done) break;
    if (next.value.event === "event") out.push(next.value);
  }
  return out;
}

describe("GET /v1/events/stream", () => {
  it("replays from the cursor, then streams live events, and resumes at Last-Event-ID", async () => {
    const { tenant, admin } = await newTenant("sse");
    const agentKey = (await newKey(admin, "agent")).key;
    const viewer = (await newKey(admin, "viewer")).key;
    const agent = await connectAgent(agentKey, tenant, "streamer");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const run = await agent.take(await agent.next("dispatch"));
    const live = await open(viewer, `?run=${run.run_id}&after=0`);
    const replayed = await take(live.messages, 1);
    expect(StoredEvent.parse(JSON.parse(replayed[0]!.data)).kind).toBe("run_dispatched");
    await agent.emit([
      agent.event("message", { role: "assistant", text: "thinking", entry_id: "e1", turn: 1 }, run),
    ]);
    const [message] = await take(live.messages, 1);
    expect(message!.id).toBe(String(JSON.parse(message!.data).cursor));
    expect(JSON.parse(message!.data)).toMatchObject({
      kind: "message",
      payload: { text: "thinking" },
    });
    await live.messages.return?.(undefined);

    // Disconnected: meanwhile two more events; resuming at the last id gets exactly those.
    await agent.emit([
      agent.event(
        "message",
        { role: "assistant", text: "still thinking", entry_id: "e2", turn: 1 },
        run,
      ),
      agent.event(
        "run_completed",
        { result: "ok", usage: usage(), duration_ms: 1, tree_ref: null },
        run,
      ),
    ]);
    const resumed = await open(viewer, `?run=${run.run_id}`, message!.id!);
    const rest = await take(resumed.messages, 2);
    expect(rest.map((m) => JSON.parse(m.data).kind)).toEqual(["message", "run_completed"]);
    expect(Number(rest[0]!.id)).toBeGreaterThan(Number(message!.id));
    await resumed.messages.return?.(undefined);
    expect(accepted.run.run_id).toBe(run.run_id);
  });

  it("asked for no history (no after, no Last-Event-ID), sends only what happens from now on", async () => {
    const { tenant, admin } = await newTenant("sse");
    const agent = await connectAgent((await newKey(admin, "agent")).key, tenant, "tail");
    await submit(admin, { targets: [{ app: "lab-notes" }] });
    const run = await agent.take(await agent.next("dispatch"));
    await agent.emit([
      agent.event("message", { role: "user", text: "before", entry_id: "e1", turn: 0 }, run),
    ]);
    const live = await open(admin, "");
    await agent.emit([
      agent.event("message", { role: "assistant", text: "after", entry_id: "e2", turn: 0 }, run),
    ]);
    const [first] = await take(live.messages, 1);
    expect(JSON.parse(first!.data)).toMatchObject({ kind: "message", payload: { text: "after" } });
    await live.messages.return?.(undefined);
  });

  it("filters by kind and refuses a malformed Last-Event-ID", async () => {
    const { admin } = await newTenant("sse");
    await submit(admin, { targets: [{ app: "nobody" }] });
    const response = await central(
      new Request("http://central/v1/events/stream", {
        headers: { authorization: `Bearer ${admin}`, "last-event-id": "abc" },
      }),
    );
    expect(response.status).toBe(400);
    const filtered = await open(admin, "?kind=run_cancelled");
    await submit(admin, { targets: [{ app: "nobody" }] });
    const runs = (await (
      await central(
        new Request("http://central/v1/runs", { headers: { authorization: `Bearer ${admin}` } }),
      )
    ).json()) as { runs: { run_id: string }[] };
    await central(
      new Request(`http://central/v1/runs/${runs.runs[0]!.run_id}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}` },
      }),
    );
    const [only] = await take(filtered.messages, 1);
    expect(JSON.parse(only!.data).kind).toBe("run_cancelled");
    await filtered.messages.return?.(undefined);
  });
});
