import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ManagedProcess } from "../../cli/local-stack/processes";
import { type FakeUpstream, startFakeUpstream } from "../central/gateway/fake-upstreams";
import { freePort } from "../helpers/central-dev";
import { runCli } from "../helpers/cli";
import { startDevStack } from "../helpers/platform-processes";

const LAB_KEY = "sk-lab-e2e-0123456789abcdef0123456789";

/**
 * `npm start` with a provider named in the environment (here an OpenAI-compatible lab server,
 * the way a local vLLM or Ollama is named): the stack configures central's gateway to route
 * `auto` to it, the edge runs through the gateway, the provider's key reaches the provider and
 * nothing else, and memory counts each call once, as the gateway saw it.
 */
describe("npm start with a provider: the edge's model calls go through central's gateway", () => {
  const home = mkdtempSync(join(tmpdir(), "auraison-e2e-gw-home-"));
  let upstream: FakeUpstream;
  let stack: ManagedProcess | null = null;
  let env: Record<string, string> = {};
  const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });

  afterAll(async () => {
    await stack?.stop("SIGKILL", 0);
    await upstream?.close();
  });

  it("routes auto to the lab server, with its key, and memory counts each call once", async () => {
    upstream = await startFakeUpstream("openai");
    upstream.script(
      {
        kind: "answer",
        toolCalls: [{ id: "call_1", name: "bash", arguments: '{"command":"ls notes | wc -l"}' }],
        usage: { input: 300, output: 20 },
      },
      { kind: "answer", text: "The notebook holds 3 notes.", usage: { input: 340, output: 9 } },
    );
    env = {
      AURAISON_HOME: home,
      ANTHROPIC_API_KEY: "",
      OPENAI_API_KEY: "",
      AURAISON_BOOTSTRAP_KEY: "",
      AURAISON_FALLBACK_BASE_URL: `${upstream.url}/v1`,
      AURAISON_FALLBACK_MODEL: "lab-llama",
      AURAISON_FALLBACK_KEY: LAB_KEY,
    };
    const port = await freePort();
    stack = await startDevStack(port, env);
    expect(stack.output()).toContain("central's gateway (auraison/auto) routing to lab/lab-llama");
    expect(stack.output()).not.toContain("scripted/");

    const submitted = await cli([
      "intent",
      "submit",
      "--app",
      "lab-notes",
      "how many notes?",
      "--wait",
    ]);
    expect(submitted.code, `${submitted.stdout}\n${submitted.stderr}`).toBe(0);
    expect(submitted.stdout).toContain("tool_call_finished bash ok");
    expect(submitted.stdout).toContain("The notebook holds 3 notes.");
    const runId = /^run ([0-9a-f-]{36})/m.exec(submitted.stdout)![1]!;

    expect(upstream.calls).toHaveLength(2);
    for (const call of upstream.calls) {
      expect(call.body.model).toBe("lab-llama");
      expect(call.headers.authorization).toBe(`Bearer ${LAB_KEY}`);
    }

    const query = `select observer, provider, model, input_tokens, output_tokens, cost_usd
      from model_calls where run_id = '${runId}' order by observer, ts`;
    let rows: Array<Record<string, unknown>> = [];
    const settled = Date.now() + 60_000;
    while (Date.now() < settled) {
      const result = await cli(["--json", "memory", "sql", query]);
      rows = result.code === 0 ? JSON.parse(result.stdout) : [];
      if (rows.length === 4) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(rows.filter((r) => r.observer === "gateway")).toEqual([
      {
        observer: "gateway",
        provider: "lab",
        model: "lab-llama",
        input_tokens: 300,
        output_tokens: 20,
        cost_usd: null,
      },
      {
        observer: "gateway",
        provider: "lab",
        model: "lab-llama",
        input_tokens: 340,
        output_tokens: 9,
        cost_usd: null,
      },
    ]);
    expect(rows.filter((r) => r.observer === "edge").map((r) => r.provider)).toEqual([
      "auraison",
      "auraison",
    ]);
    const runs = await cli([
      "--json",
      "memory",
      "sql",
      `select model_calls, tokens_in from runs where run_id = '${runId}'`,
    ]);
    expect(JSON.parse(runs.stdout)).toEqual([{ model_calls: 2, tokens_in: 640 }]);

    // The key went to the provider and nowhere else: not the output, the logs, or the event log.
    const events = await cli(["--json", "runs", "events", runId]);
    expect(events.code, events.stderr).toBe(0);
    const texts = [stack.output(), events.stdout, ...logFiles(join(home, "logs"))];
    for (const text of texts) expect(text).not.toContain(LAB_KEY);
    expect(await stack.stop("SIGINT", 60_000)).toBe(0);
    stack = null;
  }, 400_000);
});

function logFiles(dir: string): string[] {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => readFileSync(path, "utf8"));
}
