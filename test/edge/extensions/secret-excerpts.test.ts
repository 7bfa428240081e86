import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { ExtensionAPI } from "@earendil-works/pi-coding-agent";
import { Type } from "typebox";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentEvent,
  LIMITS,
  REDACTED,
  tailText,
  truncateText,
  uuidv7,
  withholdValues,
} from "../../../contract";
import type { EdgeRuntime } from "../../../edge/runtime";
import type { FauxStep } from "../helpers/faux";
import { intentFor } from "../helpers/intents";
import { makeApp, ofKind, openRuntime, type TestApp } from "../helpers/runtime";
import { filesUnder } from "../helpers/state-files";

/**
 * Tenant secrets a run was handed (withheld values) against the ways text reaches the log:
 * adapter results and tool arguments as JSON text, secrets as field names, and excerpts cut to
 * the contract's limits. Runs go through the runtime with a scripted model and a local lab
 * server that echoes its credential back (README "Secrets for adapters, scoped to runs").
 */

/** What the lab server answers, by the last segment of the path; `auth` is its x-lab header. */
const replies: Record<string, (auth: string) => unknown> = {};
const server = createServer((req: IncomingMessage, res) => {
  const name = decodeURIComponent(req.url!.split("?")[0]!.split("/").at(-1)!);
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(replies[name]?.(String(req.headers["x-lab"])) ?? { unknown: name }));
});
let base = "";
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

function labApp(): TestApp {
  return makeApp({
    appJson: { secrets: ["LAB_TOKEN"] },
    adapters: {
      lab: {
        kind: "http-json",
        name: "lab",
        base_url: `${base}/api`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
        headers: { "x-lab": "${LAB_TOKEN}" },
        endpoints: [
          {
            tool: "lab_get",
            description: "get a reply",
            method: "GET",
            path: "/replies/{name}",
            input_schema: {
              type: "object",
              properties: { name: { type: "string" } },
              required: ["name"],
            },
          },
        ],
      },
    },
  });
}

/** A run dispatched by central with `secret` as its LAB_TOKEN, as DispatchHandler.redeem does. */
async function runWith(
  app: TestApp,
  secret: string,
  steps: FauxStep[],
  extensions: Parameters<typeof openRuntime>[3] = [],
): Promise<AgentEvent[]> {
  runtime = await openRuntime(app, steps, {}, extensions);
  withholdValues([secret]);
  const runId = uuidv7();
  await runtime.runs.admit(intentFor("go") as never, runId, 1, "central");
  await (await runtime.runs.begin(runId, { LAB_TOKEN: secret })).done;
  return runtime.eventsOf(runId);
}

/** The state files (outbox, run records, sessions) holding any of `needles`. */
function filesHolding(app: TestApp, needles: string[]): string[] {
  return filesUnder(app.stateDir)
    .filter((f) => !f.endsWith(".sock"))
    .filter((f) => {
      const text = readFileSync(f, "utf8");
      return needles.some((n) => text.includes(n));
    })
    .map((f) => f.slice(app.stateDir.length));
}

/** A value and the forms a JSON decode (or two) turns back into it. */
function spellings(value: string): string[] {
  const once = JSON.stringify(value).slice(1, -1);
  return [value, once, JSON.stringify(once).slice(1, -1)];
}

/** Padding that makes `cut(render(pad))` keep all of `secret` but its last four characters. */
function padSplitting(
  secret: string,
  render: (pad: number) => string,
  cut: (text: string) => string,
  from: number,
): number {
  for (let pad = from; pad < from + 2_000; pad++) {
    const excerpt = cut(render(pad));
    if (excerpt.includes(secret.slice(0, -4)) && !excerpt.includes(secret)) return pad;
  }
  throw new Error("no padding splits the secret");
}

describe("withheld secrets in JSON text", () => {
  it("masks a secret with a quote and a backslash in its JSON-escaped forms (result, arguments, files)", async () => {
    const secret = 'pa"ss\\w0rd-Zq7-result';
    replies.echo = (auth) => ({ id: "s1", echoed: auth });
    const app = labApp();
    const events = await runWith(app, secret, [
      { tool: "lab_get", args: { name: "echo" } },
      { tool: "write", args: { path: "note.txt", content: `token: ${secret}` } },
      { text: "done" },
    ]);
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished.map((f) => f.status)).toEqual(["ok", "ok"]);
    expect(finished[0]!.result).toContain(`"echoed": "${REDACTED}"`);
    const write = ofKind(events, "tool_call_started").find((e) => e.payload.tool === "write")!;
    expect(JSON.parse(write.payload.arguments).content).toBe(`token: ${REDACTED}`);
    expect(filesHolding(app, spellings(secret))).toEqual([]);
  });

  it("masks a secret an upstream answers as a field name, in the session's copy of the output", async () => {
    const plain = "plainKeyZq7xY93-key";
    const quoted = 'quoted"Key\\Zq7xY93';
    replies.keyed = (auth) => ({ id: "s1", [auth]: 1, nested: [{ [`${auth}-b`]: true }] });
    for (const secret of [plain, quoted]) {
      const app = labApp();
      const events = await runWith(app, secret, [
        { tool: "lab_get", args: { name: "keyed" } },
        { text: "done" },
      ]);
      const finished = ofKind(events, "tool_call_finished")[0]!.payload;
      expect(finished.status).toBe("ok");
      expect(filesHolding(app, spellings(secret))).toEqual([]);
      // Both entries survive, masked: the session keeps the output's shape.
      const sessions = filesUnder(join(app.stateDir))
        .filter((f) => f.endsWith(".jsonl") && !f.includes("outbox"))
        .map((f) => readFileSync(f, "utf8"))
        .join("");
      expect(sessions).toContain(`"${REDACTED}":1`);
      expect(sessions).toContain(`"${REDACTED}-b":true`);
      await runtime?.close();
      runtime = undefined;
    }
  });
});

describe("excerpts are redacted before they are cut", () => {
  const secret = "tenantSecretValueQ8w3Zr5Lm2Kp9Xv4"; // 34 characters, no pattern knows it
  /** What a cut through the secret leaves: all but its last four characters, or its end. */
  const head = secret.slice(0, -4);
  const end = secret.slice(-20);

  it("a tool's result cut to the event's 16 KiB", async () => {
    const render = (pad: number) =>
      JSON.stringify({ pad: "x".repeat(pad), token_echo: secret, tail: "y".repeat(1000) }, null, 2);
    const pad = padSplitting(
      secret,
      render,
      (t) => truncateText(t, LIMITS.toolPayloadChars),
      16_000,
    );
    replies.result16k = (auth) => ({
      pad: "x".repeat(pad),
      token_echo: auth,
      tail: "y".repeat(1000),
    });
    const app = labApp();
    const events = await runWith(app, secret, [
      { tool: "lab_get", args: { name: "result16k" } },
      { text: "done" },
    ]);
    const finished = ofKind(events, "tool_call_finished")[0]!.payload;
    expect(finished.status).toBe("ok");
    expect(finished.result).toMatch(/\[truncated \d+ chars\]$/);
    expect(finished.result).not.toContain(head);
    expect(filesHolding(app, [head])).toEqual([]);
  });

  it("an adapter's result cut to what the model reads (50,000 characters), kept in the session", async () => {
    const render = (pad: number) =>
      JSON.stringify({ pad: "x".repeat(pad), token_echo: secret, tail: "y".repeat(1000) }, null, 2);
    const pad = padSplitting(secret, render, (t) => truncateText(t, 50_000), 49_000);
    replies.result50k = (auth) => ({
      pad: "x".repeat(pad),
      token_echo: auth,
      tail: "y".repeat(1000),
    });
    const app = labApp();
    const events = await runWith(app, secret, [
      { tool: "lab_get", args: { name: "result50k" } },
      { text: "done" },
    ]);
    expect(ofKind(events, "tool_call_finished")[0]!.payload.status).toBe("ok");
    expect(filesHolding(app, [head])).toEqual([]);
  });

  it("a tool call's arguments cut to 16 KiB", async () => {
    const render = (pad: number) =>
      JSON.stringify({ path: "big.txt", content: `${"x".repeat(pad)}${secret}${"y".repeat(100)}` });
    const pad = padSplitting(
      secret,
      render,
      (t) => truncateText(t, LIMITS.toolPayloadChars),
      16_000,
    );
    const app = labApp();
    const events = await runWith(app, secret, [
      {
        tool: "write",
        args: { path: "big.txt", content: `${"x".repeat(pad)}${secret}${"y".repeat(100)}` },
      },
      { text: "done" },
    ]);
    const started = ofKind(events, "tool_call_started")[0]!.payload;
    expect(started.arguments).toMatch(/\[truncated \d+ chars\]$/);
    expect(started.arguments).not.toContain(head);
    expect(filesHolding(app, [head])).toEqual([]);
  });

  it("a message cut to 32 KiB", async () => {
    const render = (pad: number) => `${"x".repeat(pad)}${secret}${"y".repeat(100)}`;
    const pad = padSplitting(secret, render, (t) => truncateText(t), LIMITS.textChars - 1_000);
    const app = labApp();
    const events = await runWith(app, secret, [{ text: render(pad) }]);
    const texts = ofKind(events, "message").map((e) => e.payload.text);
    expect(texts.some((t) => t.includes(REDACTED) && /\[truncated \d+ chars\]$/.test(t))).toBe(
      true,
    );
    expect(filesHolding(app, [head])).toEqual([]);
  });

  it("a tool's progress cut to its last 16 KiB, and its error cut to 4,096 characters", async () => {
    const progress = `${"x".repeat(500)}${secret}${"y".repeat(LIMITS.toolPayloadChars - 1 - end.length)}`;
    expect(tailText(progress, LIMITS.toolPayloadChars)).toContain(end);
    const failure = (pad: number) => `${"x".repeat(pad)}${secret}${"y".repeat(100)}`;
    const pad = padSplitting(secret, failure, (t) => truncateText(t, 4096), 3_000);
    const noisy = (pi: ExtensionAPI) => {
      pi.registerTool({
        name: "noisy",
        label: "noisy",
        description: "reports progress, then fails",
        parameters: Type.Object({}),
        async execute(_id, _params, _signal, onUpdate) {
          onUpdate?.({ content: [{ type: "text", text: progress }], details: {} });
          throw new Error(failure(pad));
        },
      });
    };
    const app = labApp();
    const events = await runWith(
      app,
      secret,
      [{ tool: "noisy", args: {} }, { text: "done" }],
      [noisy],
    );
    const notes = ofKind(events, "tool_call_progress").map((e) => e.payload.partial);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.startsWith("…")).toBe(true);
    expect(notes[0]).not.toContain(end);
    const finished = ofKind(events, "tool_call_finished")[0]!.payload;
    expect(finished.status).toBe("error");
    expect(finished.error_message).toMatch(/\[truncated \d+ chars\]$/);
    expect(finished.error_message).not.toContain(head);
    expect(filesHolding(app, [head, end])).toEqual([]);
  });
});
