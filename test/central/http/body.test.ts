import { describe, expect, it } from "vitest";
import { LIMITS, MAX_JSON_DEPTH } from "../../../contract";
import { call, connectAgent, json, newKey, newTenant } from "../support";

type Err = {
  error: {
    code: string;
    message: string;
    issues?: { path: string; expected: string; code: string }[];
  };
};

describe("bad inputs get the right 4xx and change nothing", () => {
  it("malformed JSON, wrong types, unknown fields, empty bodies, wrong content types, oversized bodies", async () => {
    const { admin } = await newTenant();
    const post = (init: Parameters<typeof call>[2]) =>
      call("POST", "/v1/intents", { key: admin, ...init });

    const malformed = await json<Err>(await post({ raw: '{"targets": [' }), 400);
    expect(malformed.error.code).toBe("malformed_json");

    const wrongType = await json<Err>(
      await post({ body: { targets: "lab-notes", params: { prompt: 1 } } }),
      400,
    );
    expect(wrongType.error.code).toBe("invalid_request");
    expect(wrongType.error.issues![0]).toMatchObject({ path: "targets", expected: "array" });

    const nested = await json<Err>(
      await post({
        body: { targets: [{ app: "a" }], params: { prompt: "p" }, budget: { max_tokens: -1 } },
      }),
      400,
    );
    expect(nested.error.issues![0]).toMatchObject({
      path: "budget.max_tokens",
      expected: "number >= 0",
    });

    const unknown = await json<Err>(
      await post({ body: { targets: [{ app: "a" }], budget: { max_tokenz: 5 } } }),
      400,
    );
    expect(unknown.error.issues![0]).toMatchObject({ path: "budget", code: "unrecognized_keys" });

    expect((await json<Err>(await post({ raw: "" }), 400)).error.message).toContain("empty");

    const text = await json<Err>(
      await post({ raw: "hello", headers: { "content-type": "text/plain" } }),
      415,
    );
    expect(text.error.code).toBe("unsupported_media_type");

    const huge = { targets: [{ app: "a" }], params: { prompt: "x".repeat(LIMITS.intentBytes) } };
    expect((await json<Err>(await post({ body: huge }), 413)).error.code).toBe("payload_too_large");

    const past = await json<Err>(
      await post({ body: { targets: [{ app: "a" }], deadline: "2020-01-01T00:00:00.000Z" } }),
      422,
    );
    expect(past.error.issues![0]!.path).toBe("deadline");

    const runs = await json<{ runs: unknown[] }>(
      await call("GET", "/v1/runs", { key: admin }),
      200,
    );
    expect(runs.runs).toEqual([]);
    const bad = await json<Err>(await call("GET", "/v1/runs?status=sleeping", { key: admin }), 400);
    expect(bad.error.issues![0]!.path).toBe("status");
    expect(
      (await json<Err>(await call("GET", "/v1/events?kind=teleport", { key: admin }), 400)).error
        .issues![0]!.path,
    ).toBe("kind");
    expect(
      (await json<Err>(await call("GET", "/v1/events?after=-1", { key: admin }), 400)).error
        .issues![0]!.path,
    ).toBe("after");
  });

  it("checks the streamed size, not only Content-Length", async () => {
    const { admin } = await newTenant();
    const chunk = new TextEncoder().encode(
      `{"targets":[{"app":"a"}],"params":{"prompt":"${"y".repeat(LIMITS.intentBytes)}"}}`,
    );
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await call("POST", "/v1/intents", {
      key: admin,
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(400);
    const streamed = await (await import("../support")).central(
      new Request("http://central/v1/intents", {
        method: "POST",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
  });
});

/** `{"a":{"a":...1}}`, `levels` objects deep, as text (JSON.stringify itself recurses). */
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;

/** `value` as JSON with the `"@DEEP@"` placeholder replaced by raw JSON text. */
const withRaw = (value: unknown, raw: string) => JSON.stringify(value).replace('"@DEEP@"', raw);

describe("deeply nested JSON is refused with the limit and where, never a stack overflow", () => {
  it("intent params nested 3,000 deep", async () => {
    const { admin } = await newTenant();
    const refused = await json<Err>(
      await call("POST", "/v1/intents", {
        key: admin,
        raw: withRaw({ targets: [{ app: "a" }], params: { deep: "@DEEP@" } }, nested(3_000)),
      }),
      400,
    );
    expect(refused.error.code).toBe("invalid_request");
    expect(refused.error.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    const issue = refused.error.issues![0]!;
    expect(issue.code).toBe("too_deep");
    expect(issue.path).toBe(`params.deep${".a".repeat(MAX_JSON_DEPTH - 2)}`);
  });

  it("an event payload nested 10,000 deep, over HTTP and over the agent socket", async () => {
    const { tenant, admin } = await newTenant();
    const agentKey = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(agentKey, tenant, "deep");
    const event = agent.event("message", { role: "assistant", text: "x", deep: "@DEEP@" });
    const deep = nested(10_000);
    const refused = await json<Err>(
      await call("POST", "/v1/events", { key: agentKey, raw: withRaw({ events: [event] }, deep) }),
      400,
    );
    expect(refused.error.issues![0]).toMatchObject({ code: "too_deep" });
    expect(refused.error.issues![0]!.path).toMatch(/^events\[0\]\.payload\.deep\.a/);
    agent.ws.send(withRaw({ type: "events", batch_id: "deep", events: [event] }, deep));
    const error = await agent.next("error");
    expect(error.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    // The socket is still served.
    const ack = await agent.emit([
      agent.event("heartbeat", { status: "online", running: [], outbox_pending: 0, load: null }),
    ]);
    expect(ack.stored).toHaveLength(1);
  });

  it("the gateway refuses a deep request the same way", async () => {
    const { admin } = await newTenant();
    const refused = await call("POST", "/v1/chat/completions", {
      key: admin,
      raw: withRaw(
        { model: "auto", messages: [{ role: "user", content: "hi" }], metadata: "@DEEP@" },
        nested(5_000),
      ),
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
  });
});
