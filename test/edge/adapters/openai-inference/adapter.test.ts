import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REDACTED, withholdValues } from "../../../../contract";
import { openAiInferenceAdapter } from "../../../../edge/adapters/openai-inference/adapter";
import type { EdgeRuntime } from "../../../../edge/runtime";
import { fakeVllm } from "../../../helpers/fake-vllm";
import { makeApp, ofKind, openRuntime } from "../../helpers/runtime";
import { declarationIssues, runAndCancelWhen, until } from "../helpers";

const ACTION = JSON.stringify({ dx: 0.01, dy: -0.02, dz: 0, gripper: "close" });
/** A run's tenant secret the model echoes early in a long answer (a withheld value). */
const ECHOED = "tenantSecretValueQ8w3Zr5Lm2Kp9Xv4";

let vllm: Awaited<ReturnType<typeof fakeVllm>>;
beforeAll(async () => {
  vllm = await fakeVllm((body) => {
    const messages = body.messages as Array<{ content: unknown }>;
    const text = JSON.stringify(messages.at(-1)!.content);
    if (text.includes("overloaded")) return { status: 503, error: "the engine is overloaded" };
    if (text.includes("say nothing")) return { silent: true };
    if (text.includes("prose")) return { text: "I would close the gripper." };
    if (text.includes("echo the key"))
      return { text: `${"a".repeat(500)}${ECHOED}${"b".repeat(1_980)}`, chunks: 3 };
    if (text.includes("long")) return { text: "step ".repeat(400), chunks: 400, interval_ms: 25 };
    if (text.includes("essay")) return { text: "word ".repeat(4_000), chunks: 4_000 };
    return { text: ACTION, chunks: 5, interval_ms: 5 };
  });
});
afterAll(() => vllm.close());

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const declaration = (overrides: Record<string, unknown> = {}) => ({
  kind: "openai-inference",
  name: "vla",
  base_url: vllm.url,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
  api_key: "${VLLM_KEY}",
  model: "openvla-7b",
  timeout_ms: 5_000,
  idle_timeout_ms: 300,
  tools: [
    {
      tool: "vla_next_action",
      description: "The next end-effector action for the camera frame.",
      system: "Answer with one JSON action.",
      json: true,
      max_tokens: 64,
      temperature: 0,
      extra_body: { guided_decoding_backend: "xgrammar" },
    },
    { tool: "vla_describe", description: "Describe the scene.", model: "llava-1.5" },
  ],
  ...overrides,
});

const env = { VLLM_KEY: "k-123" };
const tools = (overrides: Record<string, unknown> = {}) =>
  Object.fromEntries(
    openAiInferenceAdapter(declaration(overrides), { file: "vla.json", env }).tools.map((t) => [
      t.name,
      t,
    ]),
  );

describe("openai-inference adapter (an OpenAI-compatible server standing in for vLLM)", () => {
  it("streams the model's answer as progress and parses a JSON answer", async () => {
    const progress: string[] = [];
    const out = await tools().vla_next_action!.execute(
      { prompt: "pick up the cube", images: ["data:image/png;base64,iVBORw0KGgo="], step: 3 },
      { progress: (p) => progress.push(p) },
    );
    expect(out.output).toMatchObject({
      model: "openvla-7b",
      output: { dx: 0.01, dy: -0.02, dz: 0, gripper: "close" },
      finish_reason: "stop",
      usage: { prompt_tokens: 12 },
    });
    expect(progress.length).toBe(5);
    expect(progress.at(-1)).toBe(ACTION);
    const request = vllm.requests.at(-1)!;
    expect(request.authorization).toBe("Bearer k-123");
    expect(request.body).toMatchObject({
      model: "openvla-7b",
      stream: true,
      max_tokens: 64,
      temperature: 0,
      response_format: { type: "json_object" },
      guided_decoding_backend: "xgrammar",
      messages: [
        { role: "system", content: "Answer with one JSON action." },
        {
          role: "user",
          content: [
            { type: "text", text: 'pick up the cube\n\n{"step":3}' },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
      ],
    });
  });

  it("cuts a long answer's progress only after redacting it: no piece of a secret survives", async () => {
    withholdValues([ECHOED]);
    const progress: string[] = [];
    await tools().vla_describe!.execute(
      { prompt: "echo the key" },
      { progress: (p) => progress.push(p) },
    );
    // Notes of the whole answer so far are redacted with their event; cut ones before the cut.
    const cut = progress.filter((p) => p.startsWith("…"));
    expect(cut).toHaveLength(1);
    expect(cut[0]!.length).toBe(2_001);
    expect(cut[0]).toMatch(/^…\S*b{1980}$/);
    expect(cut[0]).not.toContain(ECHOED.slice(-12));
    expect(`${"a".repeat(500)}${REDACTED}${"b".repeat(1_980)}`).toContain(cut[0]!.slice(1));
  });

  it("notes a long answer's progress as it grows, not on every chunk past its first 2,000 characters", async () => {
    const progress: string[] = [];
    await tools().vla_describe!.execute(
      { prompt: "write an essay" },
      { progress: (p) => progress.push(p) },
    );
    const cut = progress.filter((p) => p.startsWith("…"));
    // 400 chunks whole (5 characters each, up to 2,000), then one note per 500 characters more.
    expect(progress.length - cut.length).toBe(400);
    expect(cut.length).toBeLessThanOrEqual(Math.ceil(18_000 / 500) + 1);
    expect(cut.at(-1)).toBe(`…${"word ".repeat(4_000).slice(-2_000)}`);
  });

  it("takes its key per call: a run's tenant secret before the host's variable", async () => {
    const vla = openAiInferenceAdapter(declaration({ stream: false }), {
      file: "vla.json",
      env,
      secrets: ["VLLM_KEY"],
    }).tools[0]!;
    await vla.execute({ prompt: "pick" }, { secrets: { VLLM_KEY: "k-from-central" } });
    expect(vllm.requests.at(-1)!.authorization).toBe("Bearer k-from-central");
    await vla.execute({ prompt: "pick" }, {});
    expect(vllm.requests.at(-1)!.authorization).toBe("Bearer k-123");
    const declaredOnly = openAiInferenceAdapter(declaration(), {
      file: "vla.json",
      env: {},
      secrets: ["VLLM_KEY"],
    }).tools[0]!;
    await expect(declaredOnly.execute({ prompt: "pick" }, {})).rejects.toThrow(
      /VLLM_KEY is not set/,
    );
    expect(() => openAiInferenceAdapter(declaration(), { file: "vla.json", env: {} })).toThrow(
      /VLLM_KEY is not set/,
    );
  });

  it("answers without streaming when the declaration says so", async () => {
    const out = await tools({ stream: false }).vla_describe!.execute(
      { prompt: "prose please" },
      {},
    );
    expect(out.output).toMatchObject({ model: "llava-1.5", output: "I would close the gripper." });
    expect(vllm.requests.at(-1)!.body.stream).toBe(false);
  });

  it("fails with the server's status, a non-JSON answer, a silent stream or the overall timeout", async () => {
    const t = tools();
    await expect(t.vla_describe!.execute({ prompt: "overloaded" }, {})).rejects.toThrow(
      /llava-1.5 answered HTTP 503: .*the engine is overloaded/,
    );
    await expect(t.vla_next_action!.execute({ prompt: "prose" }, {})).rejects.toThrow(
      /openvla-7b did not answer JSON: I would close the gripper\./,
    );
    await expect(t.vla_describe!.execute({ prompt: "say nothing" }, {})).rejects.toThrow(
      /no data from the model for 300 ms/,
    );
    await until(() => vllm.requests.at(-1)!.aborted);
    await expect(
      tools({ timeout_ms: 400, idle_timeout_ms: 5_000 }).vla_describe!.execute(
        { prompt: "long" },
        {},
      ),
    ).rejects.toThrow(/llava-1.5 at .* timed out after 400 ms/);
    await until(() => vllm.requests.at(-1)!.aborted);
  });

  it("fails once the answer passes max_response_bytes, streamed (closing the stream) or whole", async () => {
    const capped = (stream: boolean) =>
      tools({ stream, max_response_bytes: 1_000 }).vla_describe!.execute(
        { prompt: "write an essay" },
        {},
      );
    const limit = /the answer is larger than max_response_bytes \(1000 bytes\)/;
    await expect(capped(true)).rejects.toThrow(limit);
    await until(() => vllm.requests.at(-1)!.aborted);
    await expect(capped(false)).rejects.toThrow(limit);
    // Under the cap (1 MiB by default) the same answer is read whole.
    const out = await tools({ stream: false }).vla_describe!.execute(
      { prompt: "write an essay" },
      {},
    );
    expect((out.output as { output: string }).output).toHaveLength(20_000);
  });

  it("refuses bad declarations with the field at fault", () => {
    const issues = (d: unknown) => declarationIssues(openAiInferenceAdapter, d, env);
    expect(issues(declaration({ base_url: "grpc://x" }))).toEqual(["base_url"]);
    const d = declaration();
    (d.tools[1] as Record<string, unknown>).temperature = 7;
    expect(issues(d)).toEqual(["tools[1].temperature"]);
    expect(() => openAiInferenceAdapter(declaration(), { file: "vla.json", env: {} })).toThrow(
      /VLLM_KEY is not set/,
    );
  });

  it("in a run: the stream is progress, and cancelling the run aborts the inference", async () => {
    const app = makeApp({
      adapters: { vla: declaration({ timeout_ms: 60_000, idle_timeout_ms: 10_000 }) },
    });
    runtime = await openRuntime(
      app,
      [{ tool: "vla_describe", args: { prompt: "a long description" } }, { text: "done" }],
      { env },
    );
    const { record, events, cancelled } = await runAndCancelWhen(
      runtime,
      "describe",
      (evs) => ofKind(evs, "tool_call_progress").length > 0,
    );
    expect(cancelled).toBe(true);
    expect(record.status).toBe("cancelled");
    expect(ofKind(events, "tool_call_progress")[0]!.payload.partial).toMatch(/^step/);
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished.map((f) => [f.tool, f.status])).toEqual([["vla_describe", "error"]]);
    expect(finished[0]!.error_message).toMatch(/stopped: the run is stopping/);
    await until(() => vllm.requests.at(-1)!.aborted);
  });
});
