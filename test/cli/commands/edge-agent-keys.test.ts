import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FAUX_EXTENSION, readOutbox } from "../../edge/helpers/edge-process";
import type { FauxStep } from "../../edge/helpers/faux";
import { makeApp } from "../../edge/helpers/runtime";
import { stateText } from "../../edge/helpers/state-files";
import { freePort } from "../../helpers/central-dev";
import { runCli } from "../../helpers/cli";

const AGENT_KEY = "aur_agent_lab_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg";
const FALLBACK_KEY = "ollama-local-7f3k9q2m5x8w";

describe("auraison edge run: the agent's own keys", { timeout: 120_000 }, () => {
  it("are out of the agent's environment once read, and masked in all it writes", async () => {
    const app = makeApp();
    const root = join(app.stateDir, "..");
    const script = join(root, "run-script.json");
    // Unconfined (--shell-sandbox off; the sandbox is test/edge/session/shell-sandbox.test.ts),
    // the model's shell can read what the agent process started with (its /proc/<pid>/environ,
    // as it can read a --key-file: same user); what it reads is masked.
    const steps: FauxStep[] = [
      {
        tool: "bash",
        args: { command: "tr '\\0' '\\n' < /proc/$PPID/environ | grep '^AURAISON_.*KEY='" },
      },
      { text: "looked" },
    ];
    writeFileSync(script, JSON.stringify({ steps }));
    // An extension in the agent's process: what process.env holds while a run runs.
    const seen = join(root, "process-env.json");
    const probe = join(root, "env-probe.ts");
    writeFileSync(
      probe,
      [
        'import { writeFileSync } from "node:fs";',
        "export default function (pi: any) {",
        '  pi.on("agent_start", () => {',
        `    writeFileSync(${JSON.stringify(seen)}, JSON.stringify(Object.keys(process.env).filter((k) => k.endsWith("_KEY"))));`,
        "  });",
        "}",
      ].join("\n"),
    );
    const port = await freePort();
    const result = await runCli(
      [
        "edge",
        "run",
        "--app",
        "lab-notes",
        "--app-dir",
        app.dir,
        "--state",
        app.stateDir,
        "--workdir",
        app.workdir,
        "--model",
        "faux/faux-1",
        "--fallback-base-url",
        `http://127.0.0.1:${port}/v1`,
        "--fallback-model",
        "llama3.1:8b",
        "--extension",
        FAUX_EXTENSION,
        "--extension",
        probe,
        "--shell-sandbox",
        "off",
        "look",
      ],
      {
        env: {
          AURAISON_FAUX_SCRIPT: script,
          AURAISON_URL: `http://127.0.0.1:${port}`,
          AURAISON_KEY: AGENT_KEY,
          AURAISON_FALLBACK_KEY: FALLBACK_KEY,
        },
        timeoutMs: 60_000,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    const inProcessEnv = JSON.parse(readFileSync(seen, "utf8")) as string[];
    expect(inProcessEnv).not.toContain("AURAISON_KEY");
    expect(inProcessEnv).not.toContain("AURAISON_FALLBACK_KEY");

    const finished = readOutbox(app.stateDir).find((e) => e.kind === "tool_call_finished");
    expect(finished?.payload).toMatchObject({ tool: "bash", status: "ok" });
    const payload = (finished?.payload ?? {}) as { result?: unknown };
    const shown = String(payload.result);
    expect(shown).toContain("AURAISON_KEY=");
    expect(shown).toContain("AURAISON_FALLBACK_KEY=");
    for (const key of [AGENT_KEY, FALLBACK_KEY]) {
      expect(stateText(app)).not.toContain(key);
      expect(result.stdout + result.stderr).not.toContain(key);
    }
  });
});
