import { describe, expect, it } from "vitest";
import { SESSION_TTL_MS } from "../../../central/auth/session";
import { readSse, type SseMessage } from "../../../cli/sse";
import { type ApiError, StoredEvent } from "../../../contract";
import {
  advanceClock,
  call,
  central,
  connectAgent,
  json,
  newKey,
  newTenant,
  sleep,
  submit,
  usage,
} from "../support";

async function open(key: string, query: string, lastEventId?: string) {
  return openWith(
    {
      authorization: `Bearer ${key}`,
      ...(lastEventId ? { "last-event-id": lastEventId } : {}),
    },
    query,
  );
}

async function openWith(headers: Record<string, string>, query = "") {
  const response = await central(
    new Request(`http://central/v1/events/stream${query}`, {
      headers: { accept: "text/event-stream", ...headers },
    }),
  );
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  return { response, messages: readSse(response.body!)[Symbol.asyncIterator]() };
}

/** A dashboard session cookie (`name=value`) for `key`. */
async function signIn(key: string): Promise<string> {
  const response = await call("POST", "/v1/session", { key });
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0]!;
  await json(response, 201);
  return cookie;
}

/**
 * Reads a stream's events until it ends or `ms` pass with it still open: a stream that should
 * have ended but did not shows up as `ended: false`, with whatever it went on delivering.
 */
async function drain(
  messages: AsyncIterator<SseMessage>,
  ms = 3_000,
): Promise<{ ended: boolean; events: { kind: string; run_id: string | null }[] }> {
  const events: { kind: string; run_id: string | null }[] = [];
  const read = (async () => {
    for (;;) {
      const next = await messages.next();
      if (next.done) return true;
      if (next.value.event === "event") events.push(JSON.parse(next.value.data));
    }
  })();
  const ended = await Promise.race([read, sleep(ms).then(() => false)]);
  return { ended, events };
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
  it("ends the streams of a revoked key and of its sessions, delivering nothing submitted after", async () => {
    const { tenant, admin } = await newTenant("sse");
    const agent = await connectAgent((await newKey(admin, "agent")).key, tenant, "revoked", {
      registration: { max_concurrency: 2 },
    });
    const viewer = await newKey(admin, "viewer");
    const byKey = await open(viewer.key, "?kind=run_dispatched");
    const bySession = await openWith({ cookie: await signIn(viewer.key) }, "?kind=run_dispatched");
    const byAdmin = await open(admin, "?kind=run_dispatched");
    const before = await submit(admin, { targets: [{ app: "lab-notes" }] });
    await agent.next("dispatch", (m) => m.run_id === before.run.run_id);
    for (const stream of [byKey, bySession, byAdmin])
      expect(JSON.parse((await take(stream.messages, 1))[0]!.data).run_id).toBe(before.run.run_id);

    await json(await call("DELETE", `/v1/keys/${viewer.id}`, { key: admin }), 200);
    const after = await submit(admin, { targets: [{ app: "lab-notes" }] });
    await agent.next("dispatch", (m) => m.run_id === after.run.run_id);
    for (const stream of [byKey, bySession]) {
      const rest = await drain(stream.messages);
      expect(rest.events.filter((e) => e.run_id === after.run.run_id)).toEqual([]);
      expect(rest.ended).toBe(true);
    }
    // Another key's stream goes on.
    expect(JSON.parse((await take(byAdmin.messages, 1))[0]!.data).run_id).toBe(after.run.run_id);
    await byAdmin.messages.return?.(undefined);
  });

  it("ends a session's streams when it signs out, and no other session's", async () => {
    const { tenant, admin } = await newTenant("sse");
    const viewer = await newKey(admin, "viewer");
    const cookie = await signIn(viewer.key);
    await advanceClock(tenant, 1_000);
    const staying = await openWith({ cookie: await signIn(viewer.key) }, "?kind=run_cancelled");
    const leaving = await openWith({ cookie }, "?kind=run_cancelled");
    const out = await call("DELETE", "/v1/session", {
      headers: { cookie, origin: "http://central" },
    });
    expect(out.status).toBe(204);
    const { run } = await submit(admin, { targets: [{ app: "nobody" }] });
    await json(await call("POST", `/v1/runs/${run.run_id}/cancel`, { key: admin }), 200);
    expect(await drain(leaving.messages)).toEqual({ ended: true, events: [] });
    expect(JSON.parse((await take(staying.messages, 1))[0]!.data).run_id).toBe(run.run_id);
    await staying.messages.return?.(undefined);
  });

  it("ends a session's stream when the session expires", async () => {
    const { tenant, admin } = await newTenant("sse");
    const viewer = await newKey(admin, "viewer");
    const live = await openWith({ cookie: await signIn(viewer.key) }, "?kind=run_cancelled");
    const cancelled = async () => {
      const { run } = await submit(admin, { targets: [{ app: "nobody" }] });
      await json(await call("POST", `/v1/runs/${run.run_id}/cancel`, { key: admin }), 200);
      return run.run_id;
    };
    // Moments before the hour is up the stream still delivers.
    await advanceClock(tenant, SESSION_TTL_MS - 5_000);
    const before = await cancelled();
    expect(JSON.parse((await take(live.messages, 1))[0]!.data).run_id).toBe(before);

    // Then the tenant timer ends it, with nothing else happening to write to it.
    await advanceClock(tenant, 5_000);
    const rest = await drain(live.messages);
    expect(rest).toEqual({ ended: true, events: [] });
  });

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

  it("says where a stream of only what happens from now on starts, so a reconnect from there misses nothing", async () => {
    const { admin } = await newTenant("sse");
    const before = await submit(admin, { targets: [{ app: "nobody" }] });
    const first = await central(
      new Request("http://central/v1/events/stream?kind=run_cancelled", {
        headers: { authorization: `Bearer ${admin}` },
      }),
    );
    // The opening, before any event: `id:` is the cursor the stream starts after.
    const reader = first.body!.getReader();
    let opening = "";
    while (!opening.includes("\n\n"))
      opening += new TextDecoder().decode((await reader.read()).value);
    const startsAfter = /^retry: 1000\nid: (\d+)\n\n/.exec(opening)?.[1];
    expect(startsAfter, opening).toBeDefined();
    await reader.cancel();
    // While no stream is open, the run is cancelled: a reconnect from the opening's id sees it.
    await json(await call("POST", `/v1/runs/${before.run.run_id}/cancel`, { key: admin }), 200);
    const resumed = await open(admin, "?kind=run_cancelled", startsAfter);
    const [cancelled] = await take(resumed.messages, 1);
    expect(JSON.parse(cancelled!.data)).toMatchObject({ run_id: before.run.run_id });
    await resumed.messages.return?.(undefined);
  });

  it("filters by kind and refuses a Last-Event-ID that is not a cursor, as it refuses such an `after`", async () => {
    const { admin } = await newTenant("sse");
    await submit(admin, { targets: [{ app: "nobody" }] });
    for (const lastEventId of ["abc", "99999999999999999999", "9007199254740993", "-1"]) {
      const response = await central(
        new Request("http://central/v1/events/stream", {
          headers: { authorization: `Bearer ${admin}`, "last-event-id": lastEventId },
        }),
      );
      expect(response.status).toBe(400);
      const body = await json<ApiError>(response);
      expect(body.error.message).toContain("Last-Event-ID");
      expect(body.error.issues?.[0]?.path).toBe("last-event-id");
      const after = await call("GET", `/v1/events/stream?after=${lastEventId}`, { key: admin });
      expect(after.status).toBe(400);
      await after.body?.cancel();
    }
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
