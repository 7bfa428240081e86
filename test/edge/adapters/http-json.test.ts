import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { ContractValidationError } from "../../../contract";
import { httpJsonAdapter } from "../../../edge/adapters/http-json/adapter";
import { ADAPTER_KINDS } from "../../../edge/adapters/kinds";
import { loadAdapters } from "../../../edge/adapters/load";
import type { EdgeRuntime } from "../../../edge/runtime";
import { labServer } from "../helpers/lab-server";
import { makeApp, ofKind, openRuntime, runTask } from "../helpers/runtime";
import { until } from "./helpers";

const lab = new Hono();
const seen: Array<{ method: string; path: string; auth: string | undefined; body: unknown }> = [];
lab.use(async (c, next) => {
  seen.push({
    method: c.req.method,
    path: c.req.path + (new URL(c.req.url).search || ""),
    auth: c.req.header("authorization"),
    body: c.req.method === "POST" ? await c.req.json() : undefined,
  });
  await next();
});
lab.get("/api/samples/:id", (c) =>
  c.req.header("authorization") === "Bearer t0ken"
    ? c.json({ id: c.req.param("id"), mass_g: 12.5, unit: c.req.query("unit") ?? "g" })
    : c.json({ error: "unauthorised" }, 401),
);
lab.post("/api/samples", async (c) => c.json({ created: true, ...(await c.req.json()) }, 201));
lab.get("/api/broken", (c) => c.text("upstream exploded", 500));
lab.get("/api/shape", (c) => c.json({ id: 5 }));
lab.get("/api/slow", async (c) => {
  await new Promise((r) => setTimeout(r, 2_000));
  return c.json({});
});
// A redirect whose target the caller steers (as a `?next=` parameter of a real service can).
lab.all("/api/redirect", async (c) => {
  const args = c.req.method === "POST" ? await c.req.json() : c.req.query();
  return c.redirect(args.to, Number(args.status ?? 302) as 302);
});
lab.get("/api/loop", (c) => c.redirect("/api/loop", 302));
// Headers, then a body that stops halfway (a service stuck mid-answer) or runs on and on.
lab.get("/api/stall", () => {
  const body = new ReadableStream({
    start: (controller) => controller.enqueue(new TextEncoder().encode('{"id": "s1", ')),
  });
  return new Response(body, { headers: { "content-type": "application/json" } });
});
lab.get("/api/flood", (c) => c.json(Array.from({ length: 2_000 }, (_, i) => i)));
lab.all("/api/echo", async (c) =>
  c.json({
    method: c.req.method,
    key: c.req.header("x-api-key") ?? null,
    body: c.req.method === "GET" ? null : await c.req.json(),
  }),
);

const served = labServer(lab);

/** Another origin: what reaches it, with which headers. */
const elsewhere = new Hono();
const seenElsewhere: Array<{ path: string; headers: Record<string, string> }> = [];
elsewhere.all("*", (c) => {
  seenElsewhere.push({ path: c.req.path, headers: c.req.header() });
  return c.json({ id: "elsewhere", mass_g: 0 });
});
const other = labServer(elsewhere);

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const declaration = () => ({
  kind: "http-json",
  name: "lab-api",
  base_url: `${served.url()}/api`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
  headers: { authorization: "Bearer ${LAB_TOKEN}" },
  timeout_ms: 500,
  endpoints: [
    {
      tool: "lab_get_sample",
      description: "Fetch one sample's measurements by id.",
      method: "GET",
      path: "/samples/{id}",
      input_schema: {
        type: "object",
        properties: { id: { type: "string" }, unit: { type: "string", enum: ["g", "kg"] } },
        required: ["id"],
      },
      output_schema: {
        type: "object",
        properties: { id: { type: "string" }, mass_g: { type: "number" } },
        required: ["id", "mass_g"],
      },
    },
    {
      tool: "lab_register_sample",
      description: "Register a new sample.",
      method: "POST",
      path: "/samples",
      input_schema: {
        type: "object",
        properties: { label: { type: "string" } },
        required: ["label"],
      },
    },
    { tool: "lab_broken", description: "Always fails.", path: "/broken" },
    {
      tool: "lab_shape",
      description: "Answers the wrong shape.",
      path: "/shape",
      output_schema: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
    },
    { tool: "lab_slow", description: "Too slow.", path: "/slow" },
  ],
});

const env = { LAB_TOKEN: "t0ken" };

/** One endpoint `tool` at `path` of a lab service whose base_url has a two-segment path. */
const nested = (endpoint: Record<string, unknown>) => ({
  kind: "http-json",
  name: "lab-api",
  base_url: `${served.url()}/api/v1`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
  headers: { authorization: "Bearer ${LAB_TOKEN}" },
  timeout_ms: 2_000,
  endpoints: [{ tool: "lab_tool", description: "A lab endpoint.", ...endpoint }],
});

/** A lab service with credential headers and endpoints that redirect where they are told. */
const redirecting = () => ({
  kind: "http-json",
  name: "lab-api",
  base_url: `${served.url()}/api`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
  headers: { authorization: "Bearer ${LAB_TOKEN}", "x-api-key": "${LAB_TOKEN}" },
  timeout_ms: 2_000,
  endpoints: [
    { tool: "lab_get_redirect", description: "Redirects.", path: "/redirect" },
    { tool: "lab_post_redirect", description: "Redirects.", method: "POST", path: "/redirect" },
    { tool: "lab_loop", description: "Redirects to itself.", path: "/loop" },
  ],
});

describe("HTTP/JSON adapter", () => {
  it("turns each declared endpoint into a tool with its schemas", () => {
    const adapter = httpJsonAdapter(declaration(), { file: "lab-api.json", env });
    expect(adapter).toMatchObject({ kind: "http-json", name: "lab-api" });
    expect(adapter.tools.map((t) => t.name)).toEqual([
      "lab_get_sample",
      "lab_register_sample",
      "lab_broken",
      "lab_shape",
      "lab_slow",
    ]);
    expect(adapter.tools[0]!.input_schema).toMatchObject({ required: ["id"] });
    expect(adapter.tools[0]!.output_schema).toMatchObject({ required: ["id", "mass_g"] });
  });

  it("calls the endpoint: path params, query, JSON body, headers from the environment", async () => {
    const tools = httpJsonAdapter(declaration(), { file: "lab-api.json", env }).tools;
    const get = await tools[0]!.execute({ id: "s/1", unit: "kg" }, {});
    expect(get.output).toEqual({ id: "s/1", mass_g: 12.5, unit: "kg" });
    expect(seen.at(-1)).toMatchObject({
      method: "GET",
      path: "/api/samples/s%2F1?unit=kg",
      auth: "Bearer t0ken",
    });
    const post = await tools[1]!.execute({ label: "soil" }, {});
    expect(post.output).toEqual({ created: true, label: "soil" });
    expect(seen.at(-1)).toMatchObject({ method: "POST", body: { label: "soil" } });
  });

  it("fails with the status, a schema mismatch, or a timeout — never a silent result", async () => {
    const tools = httpJsonAdapter(declaration(), { file: "lab-api.json", env }).tools;
    await expect(tools[2]!.execute({}, {})).rejects.toThrow(/HTTP 500: upstream exploded/);
    await expect(tools[3]!.execute({}, {})).rejects.toThrow(
      /does not match output_schema: \/id must be string/,
    );
    await expect(tools[4]!.execute({}, {})).rejects.toThrow(/timed out after 500 ms/);
  });

  it("names the request when its body stalls, is cut off by the run stopping, or passes max_response_bytes", async () => {
    const tools = httpJsonAdapter(
      {
        kind: "http-json",
        name: "lab-api",
        base_url: `${served.url()}/api`,
        timeout_ms: 300,
        max_response_bytes: 1_000,
        endpoints: [
          { tool: "lab_stall", description: "Stalls mid-body.", path: "/stall" },
          { tool: "lab_flood", description: "Answers too much.", path: "/flood" },
        ],
      },
      { file: "lab-api.json", env },
    ).tools;
    const url = `${served.url()}/api`;
    await expect(tools[0]!.execute({}, {})).rejects.toThrow(
      new Error(`GET ${url}/stall timed out after 300 ms`),
    );
    const run = new AbortController();
    const stopped = tools[0]!.execute({}, { signal: run.signal });
    await until(() => seen.filter((s) => s.path === "/api/stall").length === 2);
    run.abort();
    await expect(stopped).rejects.toThrow(new RegExp(`^GET ${url}/stall failed: .*aborted`));
    await expect(tools[1]!.execute({}, {})).rejects.toThrow(
      new Error(
        `GET ${url}/flood failed: the answer is larger than max_response_bytes (1000 bytes)`,
      ),
    );
  });

  it("refuses bad declarations with the field at fault", () => {
    const bad = (d: unknown) => {
      try {
        httpJsonAdapter(d, { file: "x.json", env });
      } catch (error) {
        expect(error).toBeInstanceOf(ContractValidationError);
        return (error as ContractValidationError).issues.map((i) => i.path);
      }
      throw new Error("accepted");
    };
    expect(bad({ ...declaration(), base_url: "ftp://x" })).toContain("base_url");
    const d = declaration();
    d.endpoints[0]!.path = "/samples/{sample}";
    expect(bad(d)).toContain("endpoints[0].path");
    const dup = declaration();
    dup.endpoints[1]!.tool = "lab_get_sample";
    expect(bad(dup)).toContain("endpoints[1].tool");
    expect(() => httpJsonAdapter(declaration(), { file: "x.json", env: {} })).toThrow(
      /LAB_TOKEN is not set/,
    );
  });

  it("takes path parameters only from declared properties and the call's own arguments", async () => {
    for (const param of ["constructor", "toString", "__proto__"]) {
      const d = declaration();
      d.endpoints[0]!.path = `/samples/{${param}}`;
      expect(() => httpJsonAdapter(d, { file: "x.json", env }), param).toThrow(
        `endpoints[0].path: path parameter {${param}} is not a property of input_schema`,
      );
    }
    for (const param of ["constructor", "toString"]) {
      const d = declaration();
      Object.assign(d.endpoints[0]!, {
        path: `/samples/{${param}}`,
        input_schema: { type: "object", properties: { [param]: { type: "string" } } },
      });
      const get = httpJsonAdapter(d, { file: "x.json", env }).tools[0]!;
      const before = seen.length;
      await expect(get.execute({}, {}), param).rejects.toThrow(`missing path parameter '${param}'`);
      expect(seen.length).toBe(before);
      await get.execute({ [param]: "s-3" }, {});
      expect(seen.at(-1)?.path).toBe("/api/samples/s-3");
    }
  });

  it("refuses a path parameter that is empty, '.' or '..', naming it, before any request", async () => {
    const measurements = httpJsonAdapter(
      nested({
        path: "/samples/{id}/measurements",
        input_schema: { type: "object", properties: { id: { type: "string" } } },
      }),
      { file: "x.json", env },
    ).tools[0]!;
    const deleteNote = httpJsonAdapter(
      nested({
        method: "DELETE",
        path: "/notes/{a}/{b}",
        input_schema: {
          type: "object",
          properties: { a: { type: "string" }, b: { type: "string" } },
        },
      }),
      { file: "x.json", env },
    ).tools[0]!;
    const before = seen.length;
    // Unrefused, '..' would request /api/v1/measurements, and '..'/'..' DELETE /api/ (outside
    // base_url's /v1), both with the declared credentials.
    for (const id of ["..", ".", ""])
      await expect(measurements.execute({ id }, {}), id).rejects.toThrow(
        `path parameter 'id' is ${JSON.stringify(id)}: it must not be empty, '.' or '..'`,
      );
    await expect(deleteNote.execute({ a: "..", b: ".." }, {})).rejects.toThrow(
      /path parameter 'a' is "\.\."/,
    );
    await expect(deleteNote.execute({ a: "n-1", b: "." }, {})).rejects.toThrow(
      /path parameter 'b' is "\."/,
    );
    expect(seen.slice(before)).toEqual([]);
  });

  it("keeps other dotted and percent-encoded values inside their own segment", async () => {
    const measurements = httpJsonAdapter(
      nested({
        path: "/samples/{id}/measurements",
        input_schema: { type: "object", properties: { id: { type: "string" } } },
      }),
      { file: "x.json", env },
    ).tools[0]!;
    for (const [id, path] of [
      ["%2e%2e", "/api/v1/samples/%252e%252e/measurements"],
      ["...", "/api/v1/samples/.../measurements"],
      ["s.1", "/api/v1/samples/s.1/measurements"],
      ["../x", "/api/v1/samples/..%2Fx/measurements"],
    ]) {
      // Nothing serves /api/v1: the 404 shows the request went out, and where.
      await expect(measurements.execute({ id }, {}), id).rejects.toThrow(/HTTP 404/);
      expect(seen.at(-1), id).toMatchObject({ method: "GET", path, auth: "Bearer t0ken" });
    }
  });

  it("never sends a request outside base_url, even from a declared path", async () => {
    const escaping = httpJsonAdapter(nested({ path: "/../../samples/s-1" }), {
      file: "x.json",
      env,
    }).tools[0]!;
    const before = seen.length;
    await expect(escaping.execute({}, {})).rejects.toThrow(
      `${served.url()}/samples/s-1 is outside base_url ${served.url()}/api/v1; not sent`,
    );
    expect(seen.slice(before)).toEqual([]);
  });

  it("follows redirects that stay under base_url, with the declared headers", async () => {
    const tools = httpJsonAdapter(redirecting(), { file: "x.json", env }).tools;
    expect((await tools[0]!.execute({ to: "/api/samples/s-4" }, {})).output).toMatchObject({
      id: "s-4",
      mass_g: 12.5,
    });
    expect(seen.at(-1)).toMatchObject({ path: "/api/samples/s-4", auth: "Bearer t0ken" });
    expect((await tools[0]!.execute({ to: "echo", status: "301" }, {})).output).toEqual({
      method: "GET",
      key: "t0ken",
      body: null,
    });
    // 307 and 308 repeat the method and body; 303 (and 301/302 after a POST) continue as a GET.
    for (const status of [307, 308])
      expect(
        (await tools[1]!.execute({ to: `${served.url()}/api/echo`, status }, {})).output,
      ).toEqual({ method: "POST", key: "t0ken", body: { to: `${served.url()}/api/echo`, status } });
    for (const status of [303, 302])
      expect((await tools[1]!.execute({ to: "/api/echo", status }, {})).output).toEqual({
        method: "GET",
        key: "t0ken",
        body: null,
      });
  });

  it("refuses a redirect to another origin, which never sees the declared headers", async () => {
    const tools = httpJsonAdapter(redirecting(), { file: "x.json", env }).tools;
    // Another host name for the same address is another origin.
    const elsewhereUrl = other.url().replace("127.0.0.1", "localhost");
    for (const [tool, args] of [
      [tools[0]!, { to: `${elsewhereUrl}/steal` }],
      [tools[0]!, { to: `${other.url()}/api/samples/s-1`, status: "307" }],
      [tools[1]!, { to: `${elsewhereUrl}/steal`, status: 308 }],
    ] as const)
      await expect(tool.execute(args, {}), args.to).rejects.toThrow(
        /HTTP 30[278] redirect to http:\/\/(localhost|127\.0\.0\.1):\d+\/\S+, outside base_url http:\/\/127\.0\.0\.1:\d+\/api; not followed/,
      );
    expect(seenElsewhere).toEqual([]);
  });

  it("refuses a same-origin redirect outside base_url's path", async () => {
    const tools = httpJsonAdapter(redirecting(), { file: "x.json", env }).tools;
    const before = seen.length;
    await expect(tools[0]!.execute({ to: "/admin/keys" }, {})).rejects.toThrow(
      `HTTP 302 redirect to ${served.url()}/admin/keys, outside base_url ${served.url()}/api; not followed`,
    );
    await expect(tools[0]!.execute({ to: "/api/../apis" }, {})).rejects.toThrow(/not followed/);
    expect(seen.slice(before).map((s) => s.path.split("?")[0])).toEqual([
      "/api/redirect",
      "/api/redirect",
    ]);
  });

  it("fails after 5 redirects", async () => {
    const loop = httpJsonAdapter(redirecting(), { file: "x.json", env }).tools[2]!;
    const before = seen.length;
    await expect(loop.execute({}, {})).rejects.toThrow(/failed: more than 5 redirects/);
    expect(seen.length - before).toBe(6);
  });

  it("resolves headers per call: a run's tenant secrets before the environment", async () => {
    const tools = httpJsonAdapter(declaration(), {
      file: "lab-api.json",
      env: { LAB_TOKEN: "from-host" },
      secrets: ["LAB_TOKEN"],
    }).tools;
    const got = await tools[0]!.execute({ id: "s-1" }, { secrets: { LAB_TOKEN: "t0ken" } });
    expect(got.output).toMatchObject({ id: "s-1" });
    expect(seen.at(-1)?.auth).toBe("Bearer t0ken");
    // Without a run secret of that name, the host's environment answers.
    await expect(tools[0]!.execute({ id: "s-1" }, {})).rejects.toThrow(/HTTP 401/);
    expect(seen.at(-1)?.auth).toBe("Bearer from-host");
    // A declared secret that neither the run nor the host has fails the call, naming it.
    const declaredOnly = httpJsonAdapter(declaration(), {
      file: "lab-api.json",
      env: {},
      secrets: ["LAB_TOKEN"],
    }).tools;
    await expect(declaredOnly[0]!.execute({ id: "s-1" }, {})).rejects.toThrow(
      /LAB_TOKEN is not set/,
    );
    expect(
      await declaredOnly[0]!.execute({ id: "s-2" }, { secrets: { LAB_TOKEN: "t0ken" } }),
    ).toMatchObject({ output: { id: "s-2" } });
  });

  it("loads <app>/adapters/*.json and rejects unknown kinds and shadowed built-ins", () => {
    const app = makeApp({ adapters: { "lab-api": declaration() } });
    const adapters = loadAdapters(`${app.dir}/adapters`, ADAPTER_KINDS, env);
    expect(adapters.map((a) => a.name)).toEqual(["lab-api"]);
    const unknown = makeApp({ adapters: { ros: { kind: "ros2", name: "arm" } } });
    expect(() => loadAdapters(`${unknown.dir}/adapters`, ADAPTER_KINDS, env)).toThrow(
      /unknown adapter kind "ros2"/,
    );
    const shadow = declaration();
    shadow.endpoints[0]!.tool = "bash";
    const shadowing = makeApp({ adapters: { "lab-api": shadow } });
    expect(() => loadAdapters(`${shadowing.dir}/adapters`, ADAPTER_KINDS, env)).toThrow(
      /built-in pi tool/,
    );
  });

  it("rejects adapter kinds named like Object.prototype's members as unknown kinds", () => {
    for (const kind of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      const app = makeApp({ adapters: { odd: { kind, name: "odd" } } });
      expect(() => loadAdapters(`${app.dir}/adapters`, ADAPTER_KINDS, env), kind).toThrow(
        `unknown adapter kind "${kind}"`,
      );
    }
  });

  it("serves the tools to a run as pi tools, through the policy like any other", async () => {
    const app = makeApp({ adapters: { "lab-api": declaration() } });
    runtime = await openRuntime(
      app,
      [
        { tool: "lab_get_sample", args: { id: "s-7" } },
        { tool: "lab_get_sample", args: { unit: "kg" } },
        { tool: "lab_register_sample", args: { label: "rock" } },
        { text: "sample s-7 weighs 12.5 g" },
      ],
      { env },
    );
    const { record, events } = await runTask(runtime, "weigh s-7", {
      allowed_tools: ["lab_get_*"],
    });
    expect(record.status).toBe("completed");
    const started = ofKind(events, "tool_call_started").map((e) => e.payload);
    expect(started.map((s) => [s.tool, s.tool_type])).toEqual([
      ["lab_get_sample", "extension"],
      ["lab_get_sample", "extension"],
      ["lab_register_sample", "extension"],
    ]);
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished.map((f) => f.status)).toEqual(["ok", "error", "blocked"]);
    expect(JSON.parse(finished[0]!.result!)).toEqual({ id: "s-7", mass_g: 12.5, unit: "g" });
    expect(finished[1]!.error_message).toMatch(/id/);
    expect(finished[2]!.blocked_by).toBe("allowed_tools.intent");
  });
});
