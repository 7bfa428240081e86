import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManagedProcess } from "../../../cli/local-stack/processes";
import type { EdgeRuntime } from "../../../edge/runtime";
import { ofKind, runTask } from "../../edge/helpers/runtime";
import {
  EXAMPLE_APPS,
  expectScriptedRun,
  openExampleApp,
  outputOf,
} from "../../helpers/example-app";
import { fakeVllm } from "../../helpers/fake-vllm";
import { startZenohPython, startZenohRouter } from "../../helpers/zenoh";

/**
 * The counter-uas reference app, offline: its scripted model runs the detect skill's script on
 * the seeded frames, asks the perception model through the openai-inference adapter (an
 * OpenAI-compatible server standing in for vLLM and the VisDrone detector: no GPU or weights
 * here), and feeds a real tracker on Zenoh (a router and an eclipse-zenoh tracker node,
 * test/peers/zenoh/uas_tracker.py) whose track updates it reads back.
 */
const DETECTIONS: Record<string, unknown[]> = {
  "frame 1": [
    { class: "car", score: 0.91, bbox: [2, 6, 4, 3] },
    { class: "pedestrian", score: 0.55, bbox: [10, 2, 1, 2] },
    { class: "bicycle", score: 0.12, bbox: [12, 12, 2, 1] },
  ],
  "frame 2": [
    { class: "car", score: 0.93, bbox: [4, 6, 4, 3] },
    { class: "pedestrian", score: 0.6, bbox: [10, 3, 1, 2] },
  ],
};
let vllm: Awaited<ReturnType<typeof fakeVllm>>;
let router: Awaited<ReturnType<typeof startZenohRouter>>;
let tracker: ManagedProcess;
let runtime: EdgeRuntime;
let workdir = "";

beforeAll(async () => {
  vllm = await fakeVllm((body) => {
    const prompt = JSON.stringify(body.messages);
    const frame = /frame \d/.exec(prompt)?.[0] ?? "";
    return { text: JSON.stringify({ detections: DETECTIONS[frame] ?? [] }), chunks: 3 };
  });
  router = await startZenohRouter();
  tracker = await startZenohPython("uas-tracker", resolve("test/peers/zenoh/uas_tracker.py"), [
    "--router",
    router.endpoint,
  ]);
  const app = await openExampleApp("counter-uas", {
    CUAS_PERCEPTION: new URL(vllm.url).host,
    CUAS_PERCEPTION_KEY: "k-site-1",
    CUAS_ZENOH: router.locator.slice("ws/".length),
  });
  runtime = app.runtime;
  workdir = app.workdir;
}, 60_000);
afterAll(async () => {
  await runtime?.close();
  await tracker?.stop();
  await router?.proc.stop();
  await vllm?.close();
});

describe("examples/apps/counter-uas (scripted model; vLLM stand-in, real Zenoh tracker)", {
  timeout: 60_000,
}, () => {
  it("detects frame by frame, feeds the tracker, and reads back its confirmed tracks", async () => {
    const { record, events } = await runTask(runtime, "what is moving on cam1?");
    expect(record.status).toBe("completed");
    expectScriptedRun(events, [
      ["ls"],
      ["bash", "bash"],
      ["detect_objects"],
      ["publish_detections"],
      ["detect_objects"],
      ["publish_detections"],
      ["track_updates"],
    ]);

    // The perception model got each frame as the detect skill's script encodes it (the two
    // scripts ran in parallel: either may have finished first).
    expect(vllm.requests).toHaveLength(2);
    const frames = ["frames/cam1-0001.png", "frames/cam1-0002.png"].map((frame) =>
      execFileSync(
        "bash",
        [join(EXAMPLE_APPS, "counter-uas/skills/detect/scripts/frame-url.sh"), frame],
        {
          cwd: workdir,
          encoding: "utf8",
        },
      ).trim(),
    );
    expect(frames.every((f) => f.startsWith("data:image/png;base64,iVBORw0KGgo"))).toBe(true);
    expect(
      ofKind(events, "tool_call_finished")
        .filter((e) => e.payload.tool === "bash")
        .map((e) => e.payload.result!.trim())
        .sort(),
    ).toEqual([...frames].sort());
    for (const [i, request] of vllm.requests.entries()) {
      expect(request.authorization).toBe("Bearer k-site-1");
      expect(request.body).toMatchObject({
        model: "visdrone-detector",
        temperature: 0,
        response_format: { type: "json_object" },
        guided_json: { required: ["detections"] },
      });
      const messages = request.body.messages as Array<{ role: string; content: unknown }>;
      expect(messages[0]).toMatchObject({ role: "system" });
      expect(messages[1]!.content).toEqual([
        { type: "text", text: `Detect the objects in camera cam1, frame ${i + 1}.` },
        { type: "image_url", image_url: { url: frames[i] } },
      ]);
    }
    const detected = ofKind(events, "tool_call_finished")
      .filter((e) => e.payload.tool === "detect_objects")
      .map((e) => outputOf(e));
    expect(detected).toEqual([
      { detections: DETECTIONS["frame 1"] },
      { detections: DETECTIONS["frame 2"] },
    ]);

    // The tracker (a real Zenoh node) associated them: the bicycle under the score gate is
    // dropped, the car and the pedestrian are confirmed with their motion.
    const updates = ofKind(events, "tool_call_finished").find(
      (e) => e.payload.tool === "track_updates",
    )!;
    const samples = (
      outputOf(updates) as { samples: { key_expr: string; payload: Record<string, unknown> }[] }
    ).samples;
    expect(samples).toHaveLength(8);
    const latest = new Map(samples.map((s) => [s.key_expr, s.payload]));
    expect(Object.fromEntries(latest)).toEqual({
      "cuas/tracks/T1": {
        track_id: "T1",
        class: "car",
        camera: "cam1",
        frame: 2,
        bbox: [4, 6, 4, 3],
        velocity_px_per_frame: [2, 0],
        hits: 2,
        status: "confirmed",
      },
      "cuas/tracks/T2": {
        track_id: "T2",
        class: "pedestrian",
        camera: "cam1",
        frame: 2,
        bbox: [10, 3, 1, 2],
        velocity_px_per_frame: [0, 1],
        hits: 2,
        status: "confirmed",
      },
    });
    expect(record.result).toContain("not from a model");
  });

  it("registers the detect and track skills with their params schemas", () => {
    expect(runtime.skills.map((s) => [s.name, s.params?.required ?? []])).toEqual([
      ["detect", ["camera"]],
      ["track", []],
    ]);
  });
});
