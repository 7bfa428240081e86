import { afterEach, describe, expect, it } from "vitest";
import type { EdgeRuntime } from "../../../edge/runtime";
import { fauxProvider } from "../helpers/faux";
import { makeApp, ofKind, openRuntime, runTask } from "../helpers/runtime";
import { stateText } from "../helpers/state-files";

// What a host running the agent has in its environment (systemd's EnvironmentFile, README
// "Running it under systemd"): the agent's key, the fallback's, a provider key and a host
// secret an adapter resolves as ${LAB_API_TOKEN}.
const AGENT_KEY = "aur_agent_lab_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg";
const HOST_ENV: Record<string, string> = {
  AURAISON_KEY: AGENT_KEY,
  AURAISON_FALLBACK_KEY: "ollama-local-7f3k9q2m5x8w",
  OPENAI_API_KEY: "openai-host-key-3n8v5c2x7z",
  LAB_API_TOKEN: "lab-host-token-9q4w6e1r3t",
  LAB_SETTING: "not-for-the-shell",
};

/** README "Execution adapters" (mcp): the agent's variables a child process it starts gets. */
const MINIMAL = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TMPDIR", "TZ"];
/** pi's shell session variables, and those bash sets itself. */
const OWN = ["PI_SESSION_ID", "PI_SESSION_FILE", "PI_PROVIDER", "PI_MODEL", "PI_REASONING_LEVEL"];
const SHELL_SET = ["PWD", "OLDPWD", "SHLVL", "_"];

let runtime: EdgeRuntime | undefined;
const saved = new Map<string, string | undefined>();
function setEnv(vars: Record<string, string>): void {
  for (const [name, value] of Object.entries(vars)) {
    if (!saved.has(name)) saved.set(name, process.env[name]);
    process.env[name] = value;
  }
}
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  saved.clear();
});

describe("the model's bash environment", { timeout: 60_000 }, () => {
  it("holds the minimal environment and pi's session variables, none of the agent's own", async () => {
    setEnv({ ...HOST_ENV, LANG: "C.UTF-8", TZ: "Europe/Berlin" });
    const app = makeApp({ appJson: { policy: { allowed_tools: ["bash"] } } });
    runtime = await openRuntime(app, [
      { tool: "bash", args: { command: "env -0 | tr '\\0' '\\036'" } },
      { tool: "bash", args: { command: 'printf "%s|%s|%s|%s" "$HOME" "$LANG" "$TZ" "$PI_MODEL"' } },
      { tool: "bash", args: { command: "command -v sh" } },
      { text: "done" },
    ]);
    const { record, events } = await runTask(runtime, "look around");
    expect(record.status).toBe("completed");
    const [env, documented, onPath] = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(env!.status).toBe("ok");

    const names = String(env!.result)
      .split("\x1e")
      .filter((line) => line.includes("="))
      .map((line) => line.slice(0, line.indexOf("=")));
    expect(names).toContain("PATH");
    expect(names.filter((n) => n.startsWith("AURAISON_"))).toEqual([]);
    expect(names.filter((n) => ![...MINIMAL, ...OWN, ...SHELL_SET].includes(n))).toEqual([]);

    // What the README names still reaches the shell, with the agent's values.
    expect(documented!.result).toBe(`${process.env.HOME}|C.UTF-8|Europe/Berlin|faux-1`);
    expect(onPath).toMatchObject({ status: "ok" });
    expect(String(onPath!.result).trim()).toMatch(/\/sh$/);

    const onDisk = stateText(app);
    for (const value of Object.values(HOST_ENV)) expect(onDisk).not.toContain(value);
  });

  it("does not hand the model the agent's key, nor write it", async () => {
    setEnv(HOST_ENV);
    const reversed = [...AGENT_KEY].reverse().join("");
    let seen = "";
    const app = makeApp();
    runtime = await openRuntime(app, [], {
      extensionFactories: [
        fauxProvider((context) => {
          const tool = context.messages.find((m) => m.role === "toolResult");
          if (!tool)
            return {
              tool: "bash",
              args: { command: 'echo "$AURAISON_KEY" | rev; echo "$AURAISON_FALLBACK_KEY" | rev' },
            };
          seen = JSON.stringify(tool.content);
          return { text: "done" };
        }),
      ],
    });
    const { record } = await runTask(runtime, "go");
    expect(record.status).toBe("completed");
    expect(seen).not.toContain(reversed);
    expect(seen).not.toContain([...HOST_ENV.AURAISON_FALLBACK_KEY!].reverse().join(""));
    expect(stateText(app)).not.toContain(reversed);
  });
});
