import { describe, expect, it } from "vitest";
import { ExternalPddlEndpoint } from "../../../central/plans/planners/external-pddl";
import { ExternalPddlPlanner, TenantSettings } from "../../../contract";

const TOKEN = "planner-token-0123456789";
const REQUEST = { domain: "(define (domain d))", problem: "(define (problem p))", optimal: false };
const config = (more: Record<string, unknown> = {}) =>
  ExternalPddlPlanner.parse({
    url: "https://planner.example/solve",
    above: { objects: 0 },
    ...more,
  });
const env = (more: Record<string, string> = {}) =>
  ({
    AURAISON_PROVIDER_SECRETS: JSON.stringify({ PLANNER_TOKEN: { hosts: ["planner.example"] } }),
    PLANNER_TOKEN: TOKEN,
    ...more,
  }) as unknown as Env;

/** An endpoint whose fetch answers `answer` and records what it was sent. */
function endpoint(answer: (init: RequestInit) => Promise<Response> | Response, vars = env()) {
  const sent: { url: string; init: RequestInit }[] = [];
  const fetcher = (async (url: string, init: RequestInit) => {
    sent.push({ url, init });
    return answer(init);
  }) as unknown as typeof fetch;
  return { external: new ExternalPddlEndpoint(vars, "lab", fetcher), sent };
}

const json = (body: unknown, status = 200) => Response.json(body, { status });

describe("the external PDDL planner endpoint", () => {
  it("is the tenant's when its settings name one, else the operator's, else none", () => {
    const operator = config({ url: "https://operator.example/plan" });
    const vars = env({ AURAISON_PDDL_PLANNER: JSON.stringify(operator) });
    const { external } = endpoint(() => json({}), vars);
    const none = TenantSettings.parse({});
    expect(external.configured(none)).toEqual(operator);
    const own = TenantSettings.parse({ planning: { external_pddl: config() } });
    expect(external.configured(own)?.url).toBe("https://planner.example/solve");
    const broken = endpoint(() => json({}), env({ AURAISON_PDDL_PLANNER: "{not json" }));
    expect(broken.external.configured(none)).toBeNull();
    expect(endpoint(() => json({})).external.configured(none)).toBeNull();
  });

  it("sends the PDDL with the offered token and reads a plan as a list or as a plan file's text", async () => {
    const list = endpoint(() => json({ plan: ["(a x)", "(b y)"] }));
    expect(
      await list.external.solve(config({ token: { secret: "PLANNER_TOKEN" } }), REQUEST),
    ).toEqual({ ok: true, actions: ["(a x)", "(b y)"] });
    const sent = list.sent[0]!;
    expect(sent.url).toBe("https://planner.example/solve");
    expect(sent.init.redirect).toBe("manual");
    expect((sent.init.headers as Record<string, string>).authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(sent.init.body as string)).toEqual(REQUEST);
    const file = endpoint(() =>
      json({ plan: "(a x)\n; a comment\n(b y) ; why\n; cost = 2 (unit cost)\n" }),
    );
    expect(await file.external.solve(config(), REQUEST)).toEqual({
      ok: true,
      actions: ["(a x)", "(b y)"],
    });
    expect((file.sent[0]!.init.headers as Record<string, string>).authorization).toBeUndefined();
  });

  it("keeps the token, and any secret-looking text, out of an error answer it reports", async () => {
    const echo = endpoint(
      (init) =>
        new Response(
          `bad request: ${(init.headers as Record<string, string>).authorization}; password=hunter2-SUPERSECRET`,
          { status: 400 },
        ),
    );
    const got = await echo.external.solve(config({ token: { secret: "PLANNER_TOKEN" } }), REQUEST);
    expect(got.ok).toBe(false);
    const error = got.ok ? "" : got.error;
    expect(error).toMatch(/^the planner answered 400: bad request: /);
    expect(error).not.toContain(TOKEN);
    expect(error).not.toContain("hunter2");
  });

  it("turns every other answer into a reason: an error status, a redirect, no plan, not JSON, no answer in time", async () => {
    const reason = async (
      answer: (init: RequestInit) => Promise<Response> | Response,
      more = {},
    ) => {
      const got = await endpoint(answer).external.solve(config(more), REQUEST);
      expect(got.ok).toBe(false);
      return got.ok ? "" : got.error;
    };
    expect(await reason(() => new Response("overloaded", { status: 503 }))).toBe(
      "the planner answered 503: overloaded",
    );
    expect(
      await reason(
        () => new Response(null, { status: 302, headers: { location: "http://10.0.0.1/" } }),
      ),
    ).toMatch(/^the planner answered 302/);
    expect(await reason(() => json({ error: "unsolvable" }))).toBe(
      "the planner found no plan: unsolvable",
    );
    expect(await reason(() => json({ steps: [] }))).toMatch(/has no "plan"/);
    expect(await reason(() => new Response("<html>"))).toBe("the planner's answer is not JSON");
    const hang = (init: RequestInit) =>
      new Promise<Response>((_, reject) =>
        init.signal!.addEventListener("abort", () => reject(new Error("aborted"))),
      );
    expect(await reason(hang, { timeout_ms: 100 })).toBe(
      "the planner gave no answer within 100 ms",
    );
  });

  it("stops reading an answer past 8 MiB instead of holding all of it", async () => {
    let pulled = 0;
    const endless = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled += 1 << 20;
            controller.enqueue(new Uint8Array(1 << 20).fill(0x20));
          },
        }),
      );
    expect(await endpoint(endless).external.solve(config(), REQUEST)).toEqual({
      ok: false,
      error: "the planner's answer is over 8388608 bytes",
    });
    expect(pulled).toBeLessThanOrEqual(10 << 20);
  });

  it("refuses URLs and tokens the platform may not use, on save and again at the call", async () => {
    const { external, sent } = endpoint(() => json({ plan: [] }));
    expect(external.refusal(config({ url: "http://127.0.0.1:9/solve" }))).toMatchObject({
      path: "url",
      message: expect.stringMatching(/must be https/),
    });
    expect(external.refusal(config({ url: "https://169.254.169.254/solve" }))?.path).toBe("url");
    expect(
      external.refusal(
        config({ url: "https://other.example/solve", token: { secret: "PLANNER_TOKEN" } }),
      ),
    ).toMatchObject({
      path: "token.secret",
      message: expect.stringMatching(/only to planner\.example/),
    });
    expect(external.refusal(config({ token: { secret: "AURAISON_GATEWAY_KEK" } }))?.path).toBe(
      "token.secret",
    );
    // Names of Object members are secrets no operator offered (they threw: a 500 on save).
    for (const secret of ["constructor", "toString", "__proto__"])
      expect(external.refusal(config({ token: { secret } }))).toMatchObject({
        path: "token.secret",
        message: expect.stringMatching(/is not a provider secret this platform offers/),
      });
    expect(await external.solve(config({ url: "https://10.1.2.3/solve" }), REQUEST)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/private address/),
    });
    expect(sent).toEqual([]);
    const allowed = endpoint(
      () => json({ plan: [] }),
      env({ AURAISON_PRIVATE_UPSTREAMS: "allow" }),
    );
    expect(allowed.external.refusal(config({ url: "http://127.0.0.1:9/solve" }))).toBeNull();
  });
});
