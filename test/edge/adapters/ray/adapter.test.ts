import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ManagedProcess } from "../../../../cli/local-stack/processes";
import { rayAdapter } from "../../../../edge/adapters/ray/adapter";
import type { EdgeRuntime } from "../../../../edge/runtime";
import { ISOLATED, PEERS_PYTHON, pythonEnv, startPeer, tcpToUnix } from "../../../helpers/peers";
import { crashMidRun } from "../../helpers/edge-process";
import { makeApp, ofKind, openRuntime } from "../../helpers/runtime";
import { declarationIssues, runAndCancelWhen } from "../helpers";

/**
 * Against a real Ray head (ray[default] from PyPI) in its own network and PID namespaces: only
 * loopback there, since Ray binds the host's address whatever it is told. The test reaches the
 * dashboard's Jobs API through a Unix socket bridge.
 */
let head: ManagedProcess;
let bridge: Awaited<ReturnType<typeof tcpToUnix>>;
let address = "";
beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), "ray-head-"));
  const socket = join(work, "dashboard.sock");
  head = await startPeer(
    "ray-head",
    "unshare",
    [...ISOLATED, "bash", resolve("test/peers/ray/ns-head.sh"), join(work, "w"), socket],
    {
      env: pythonEnv({ PATH: `${resolve(PEERS_PYTHON, "bin")}:${process.env.PATH}` }),
      ready: "ray head ready",
      timeoutMs: 240_000,
    },
  );
  bridge = await tcpToUnix(socket);
  address = bridge.url;
}, 300_000);
afterAll(async () => {
  await bridge?.close();
  await head?.stop();
});

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const PY = "python3 -c";
const declaration = (overrides: Record<string, unknown> = {}) => ({
  kind: "ray",
  name: "cluster",
  address,
  poll_interval_ms: 200,
  timeout_ms: 120_000,
  tools: [
    {
      tool: "ray_train",
      description: "Train the grasp policy for some epochs; prints a JSON summary.",
      entrypoint: `${PY} "import json, os, sys; a = json.loads(os.environ['AURAISON_TOOL_ARGS']); n = int(os.environ['AURAISON_ARG_epochs']); [print(f'epoch {i+1}/{n}', flush=True) for i in range(n)]; print(json.dumps({'epochs': n, 'lr': a['lr']}))" "$AURAISON_ARG_epochs"`,
      input_schema: {
        type: "object",
        properties: { epochs: { type: "integer" }, lr: { type: "number" } },
        required: ["epochs", "lr"],
      },
      entrypoint_num_cpus: 1,
    },
    {
      tool: "ray_fail",
      description: "A job that fails.",
      entrypoint: `${PY} "import sys; print('loading shards'); sys.exit('CUDA out of memory')"`,
    },
    {
      tool: "ray_long",
      description: "A long sweep.",
      entrypoint: `${PY} "import time; [print(f'step {i}', flush=True) or time.sleep(0.5) for i in range(600)]"`,
    },
  ],
  ...overrides,
});

function tools(overrides: Record<string, unknown> = {}) {
  return Object.fromEntries(
    rayAdapter(declaration(overrides), { file: "cluster.json", env: {} }).tools.map((t) => [
      t.name,
      t,
    ]),
  );
}

async function rayJob(id: string) {
  const response = await fetch(`${address}/api/jobs/${id}`);
  return (await response.json()) as {
    status: string;
    metadata: Record<string, string>;
    entrypoint: string;
  };
}

// Jobs take seconds to start on a busy host; each test waits on real ones.
describe("ray adapter (real Ray head, Jobs API)", { timeout: 180_000 }, () => {
  it("in a run: submits a job tied to the run and tool call, follows its logs, returns its result", async () => {
    const app = makeApp({ adapters: { cluster: declaration() } });
    runtime = await openRuntime(app, [
      { tool: "ray_train", args: { epochs: 3, lr: 0.001 } },
      { tool: "ray_fail", args: {} },
      { text: "trained" },
    ]);
    const { record, events } = await runAndCancelWhen(runtime, "train the policy", () => false, {
      params: { dataset: "grasps-v2" },
    });
    expect(record.status).toBe("completed");
    const started = ofKind(events, "tool_call_started").map((e) => e.payload);
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished.map((f) => [f.tool, f.status])).toEqual([
      ["ray_train", "ok"],
      ["ray_fail", "error"],
    ]);
    const train = JSON.parse(finished[0]!.result!);
    const id = `auraison-${record.run_id}-1-${started[0]!.tool_call_id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    expect(train).toMatchObject({
      submission_id: id,
      status: "SUCCEEDED",
      result: { epochs: 3, lr: 0.001 },
    });
    expect(train.logs).toMatch(/epoch 3\/3/);
    const job = await rayJob(id);
    expect(job.entrypoint).toMatch(/"\$AURAISON_ARG_epochs"$/);
    expect(job.metadata).toMatchObject({
      "auraison.run_id": record.run_id,
      "auraison.attempt": "1",
      "auraison.tool_call_id": started[0]!.tool_call_id,
      "auraison.tool": "ray_train",
      "auraison.app": "lab-notes",
      "auraison.intent_id": record.intent.intent_id,
      "auraison.intent_type": "task",
      "auraison.intent_params": JSON.stringify(record.intent.params),
    });
    expect(finished[1]!.error_message).toMatch(
      /Ray job auraison-.* FAILED: .*\nlogs:\n.*loading shards/s,
    );
    expect(
      ofKind(events, "tool_call_progress").some((e) => /RUNNING|epoch/.test(e.payload.partial)),
    ).toBe(true);
  });

  it("in a run: cancelling the run stops the job", async () => {
    const app = makeApp({ adapters: { cluster: declaration() } });
    runtime = await openRuntime(app, [{ tool: "ray_long", args: {} }, { text: "never" }]);
    const { record, events, cancelled } = await runAndCancelWhen(runtime, "sweep", (evs) =>
      ofKind(evs, "tool_call_progress").some((e) => /step \d/.test(e.payload.partial)),
    );
    expect(cancelled).toBe(true);
    expect(record.status).toBe("cancelled");
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished[0]!.error_message).toMatch(
      /was stopped: the run is stopping; the job was stopped \(STOPPED\)/,
    );
    const id = /Ray job (\S+) was stopped/.exec(finished[0]!.error_message!)![1]!;
    expect((await rayJob(id)).status).toBe("STOPPED");
  });

  it("a budget that runs out stops the job too", async () => {
    const app = makeApp({ adapters: { cluster: declaration() } });
    runtime = await openRuntime(app, [{ tool: "ray_long", args: {} }, { text: "never" }]);
    const { record, events } = await runAndCancelWhen(runtime, "sweep", () => false, {
      budget: { max_wall_ms: 15_000 },
    });
    expect(record.status).toBe("failed");
    expect(record.error?.reason).toBe("budget_exceeded");
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    const id = /Ray job (\S+) was stopped/.exec(finished[0]!.error_message!)![1]!;
    expect((await rayJob(id)).status).toBe("STOPPED");
  });

  it("a job past its timeout is stopped and the call fails with the reason", async () => {
    const t = tools({ timeout_ms: 6_000 });
    await expect(t.ray_long!.execute({}, {})).rejects.toThrow(
      /Ray job auraison-\S+ timed out after 6000 ms; the job was stopped \(STOPPED\)/,
    );
  });

  it("after a crash (SIGKILL) mid-job, the restarted agent stops the job the call left running", async () => {
    const app = makeApp({ adapters: { cluster: declaration() } });
    let id = "";
    const { events } = await crashMidRun(
      app,
      [{ tool: "ray_long", args: {} }, { text: "the sweep was interrupted" }],
      async (evs) => {
        const started = ofKind(evs, "tool_call_started")[0];
        if (!started) return false;
        id = `auraison-${started.run_id}-${started.attempt}-${started.payload.tool_call_id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
        return ofKind(evs, "tool_call_progress").some((e) => /step \d/.test(e.payload.partial));
      },
      async () => {
        // Nothing stopped the job: the agent died with the call.
        await new Promise((r) => setTimeout(r, 1_000));
        expect((await rayJob(id)).status).toBe("RUNNING");
      },
    );
    expect((await rayJob(id)).status).toBe("STOPPED");
    const interrupted = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]).toMatchObject({ tool: "ray_long", error_type: "interrupted" });
    expect(interrupted[0]!.error_message).toContain(
      `The Ray job ${id} it started was still RUNNING; the job was stopped (STOPPED).`,
    );
    // The model is told too, in the call's result.
    expect(
      ofKind(events, "message").some(
        (e) => e.payload.role === "tool" && e.payload.text.includes("the job was stopped"),
      ),
    ).toBe(true);
    expect(ofKind(events, "run_completed")).toHaveLength(1);
  });

  it("refuses bad declarations with the field at fault, and names an unreachable dashboard", async () => {
    expect(declarationIssues(rayAdapter, declaration({ address: "ray://head:10001" }))).toEqual([
      "address",
    ]);
    const d = declaration();
    (d.tools[1] as Record<string, unknown>).entrypoint_num_gpus = -1;
    expect(declarationIssues(rayAdapter, d)).toEqual(["tools[1].entrypoint_num_gpus"]);
    await expect(
      tools({ address: "http://127.0.0.1:9" }).ray_fail!.execute({}, {}),
    ).rejects.toThrow(/Ray POST http:\/\/127\.0\.0\.1:9\/api\/jobs\/ failed/);
  });
});
