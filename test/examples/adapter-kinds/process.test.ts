import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ADAPTER_KINDS } from "../../../edge/adapters/kinds";
import type { EdgeRuntime } from "../../../edge/runtime";
import { processAdapter } from "../../../examples/adapter-kinds/process";
import { declarationIssues, runAndCancelWhen } from "../../edge/adapters/helpers";
import { makeApp, ofKind, openRuntime } from "../../edge/helpers/runtime";

/** The README's "Writing an adapter kind" example, as it is printed there, at work in a run. */
const declaration = {
  kind: "process",
  name: "lab-tools",
  tools: [
    {
      tool: "count_cells",
      description: "Counts the cells in a plate image (prints progress).",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
      command: "${NODE}",
      args: [
        "-e",
        "for (const w of [1, 2, 3]) console.log('well', w + '/3'); console.log('total 42')",
      ],
    },
    {
      tool: "calibrate",
      description: "A calibration that never ends.",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
      command: "${NODE}",
      args: ["-e", "setInterval(() => console.log('settling'), 100)"],
      timeout_ms: 60_000,
    },
  ],
};
const env = { NODE: process.execPath };

describe("the README's example adapter kind (examples/adapter-kinds/process.ts)", () => {
  it("is the code the README shows", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(readme).toContain(readFileSync("examples/adapter-kinds/process.ts", "utf8").trim());
  });

  it("runs programs as tools; a run's cancel kills the program; bad declarations name the field", async () => {
    expect(declarationIssues(processAdapter, { ...declaration, tools: [{ tool: "x" }] })).toEqual([
      "tools[0].description",
      "tools[0].command",
    ]);
    const app = makeApp({ adapters: { "lab-tools": declaration } });
    let runtime: EdgeRuntime | undefined;
    try {
      runtime = await openRuntime(
        app,
        [{ tool: "count_cells", args: {} }, { tool: "calibrate", args: {} }, { text: "never" }],
        { env, adapterKinds: { ...ADAPTER_KINDS, process: processAdapter } },
      );
      const { record, events } = await runAndCancelWhen(runtime, "count", (evs) =>
        ofKind(evs, "tool_call_progress").some((e) => e.payload.tool === "calibrate"),
      );
      expect(record.status).toBe("cancelled");
      const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
      expect(finished.map((f) => [f.tool, f.status])).toEqual([
        ["count_cells", "ok"],
        ["calibrate", "error"],
      ]);
      expect(JSON.parse(finished[0]!.result!).stdout).toMatch(/well 3\/3\ntotal 42/);
      expect(finished[1]!.error_message).toMatch(/calibrate was stopped: the run is stopping/);
    } finally {
      await runtime?.close();
    }
  });
});
