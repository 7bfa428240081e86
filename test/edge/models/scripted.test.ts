import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ContractValidationError } from "../../../contract";
import { resolveModelSettings } from "../../../edge/models/resolve";
import { loadScriptedScenario } from "../../../edge/models/scripted";
import { EdgeRuntime } from "../../../edge/runtime";
import { openExampleApp } from "../../helpers/example-app";
import { ofKind, runTask } from "../helpers/runtime";

const SAMPLE = resolve("examples/apps/lab-notes");

describe("the scripted demo model", () => {
  const open: EdgeRuntime[] = [];
  afterEach(async () => {
    for (const runtime of open.splice(0)) await runtime.close();
  });

  async function sampleRuntime() {
    const app = await openExampleApp("lab-notes");
    open.push(app.runtime);
    return app;
  }

  it("is what the sample app runs on when no provider is configured", async () => {
    const { models } = await sampleRuntime();
    expect(models.primary).toEqual({ provider: "scripted", id: "lab-notes" });
  });

  it("drives the sample app's real tools through its scenario, labelled scripted in every model call", async () => {
    const { runtime, workdir } = await sampleRuntime();
    const { record, events } = await runTask(runtime, "summarise the notebook");
    expect(record.status).toBe("completed");
    const calls = ofKind(events, "model_call");
    expect(calls.length).toBe(6);
    for (const call of calls) {
      expect(call.payload).toMatchObject({ provider: "scripted", scripted: true, cost_usd: 0 });
    }
    const tools = ofKind(events, "tool_call_finished").map((e) => [
      e.payload.tool,
      e.payload.status,
    ]);
    expect(tools).toEqual([
      ["ls", "ok"],
      ["bash", "ok"],
      ["read", "ok"],
      ["write", "ok"],
      ["bash", "ok"],
    ]);
    // The skill's script really ran over the seeded notes.
    const overview = ofKind(events, "message").find((e) => e.payload.text.includes("== totals"));
    expect(overview?.payload.text).toContain("notes=3 open_todos=5 measurements=5");
    expect(readFileSync(join(workdir, "reports/notes-summary.md"), "utf8")).toContain(
      "5 open TODOs",
    );
    expect(record.result).toContain("not from a model");
    expect(record.result).toContain("summarise the notebook");
  });

  it("seeds a new workdir from the app's workdir_seed, and leaves a used one alone", async () => {
    const { runtime, workdir } = await sampleRuntime();
    expect(existsSync(join(workdir, "notes/2026-11-18-sample-prep.md"))).toBe(true);
    await runtime.close();
    open.splice(0);
    writeFileSync(join(workdir, "notes/2026-11-18-sample-prep.md"), "edited");
    const again = await EdgeRuntime.open({
      app: "lab-notes",
      agentId: "host-1.lab-notes",
      tenant: "lab",
      stateDir: join(workdir, "../state2"),
      workdir,
      appDir: SAMPLE,
      models: {
        primary: { provider: "faux", id: "faux-1" },
        gateway: null,
        fallback: null,
        scripted: null,
      },
    });
    open.push(again);
    expect(readFileSync(join(workdir, "notes/2026-11-18-sample-prep.md"), "utf8")).toBe("edited");
  });
});

describe("model resolution", () => {
  const scripted = { scenario: loadScriptedScenario(SAMPLE)!, skillsDir: join(SAMPLE, "skills") };

  it("prefers a provider key in the environment over the scripted scenario", () => {
    const base = { app: "lab-notes", gateway: null, fallback: {}, scripted };
    expect(resolveModelSettings({ ...base, env: { ANTHROPIC_API_KEY: "k" } }).primary).toEqual({
      provider: "anthropic",
      id: "claude-sonnet-4-5",
    });
    expect(resolveModelSettings({ ...base, env: { OPENAI_API_KEY: "k" } }).primary.provider).toBe(
      "openai",
    );
    expect(resolveModelSettings({ ...base, env: {} }).primary.provider).toBe("scripted");
  });

  it("prefers central's gateway when the agent has a central", () => {
    const settings = resolveModelSettings({
      app: "lab-notes",
      gateway: { url: "http://central", key: "k" },
      fallback: {},
      env: {},
      scripted,
    });
    expect(settings.primary).toEqual({ provider: "auraison", id: "auto" });
    expect(settings.scripted).toBeNull();
  });

  it("refuses scripted/<app> for an app without a scenario", () => {
    expect(() =>
      resolveModelSettings({
        app: "other",
        model: "scripted/other",
        gateway: null,
        fallback: {},
        env: {},
      }),
    ).toThrow(/no scripted-model.json/);
  });

  it("validates a scenario file and names the bad field", () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-scenario-"));
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "scripted-model.json"),
      JSON.stringify({ description: "x", steps: [{ say: "hi" }] }),
    );
    expect(() => loadScriptedScenario(dir)).toThrow(ContractValidationError);
    expect(() => loadScriptedScenario(dir)).toThrow(/steps\[0\]/);
  });
});
