import { afterEach, describe, expect, it } from "vitest";
import type { EdgeRuntime } from "../../../edge/runtime";
import { makeApp, ofKind, openRuntime, runTask } from "../helpers/runtime";

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("policy guard", () => {
  it("blocks each rule's refusals with the reason, logs every decision, and the run goes on", async () => {
    const app = makeApp({
      appJson: {
        policy: {
          allowed_tools: ["read", "bash", "write", "ls"],
          max_bash_timeout_s: 30,
          shell: {
            deny: [{ id: "no_git_push", pattern: "git\\s+push", reason: "pushing is not allowed" }],
          },
        },
      },
    });
    runtime = await openRuntime(app, [
      { tool: "edit", args: { path: "a.txt", edits: [{ oldText: "a", newText: "b" }] } },
      { tool: "read", args: { path: "/etc/passwd" } },
      { tool: "bash", args: { command: "sudo cat /etc/shadow" } },
      { tool: "bash", args: { command: "git push origin main" } },
      { tool: "write", args: { path: "../escape.txt", content: "x" } },
      { tool: "ls", args: {} },
      { tool: "bash", args: { command: "echo clamped", timeout: 999 } },
      { text: "done despite refusals" },
    ]);
    const { record, events } = await runTask(runtime, "try things", {
      allowed_tools: ["read", "bash", "write", "edit"],
    });
    expect(record.status).toBe("completed");

    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished.map((f) => [f.tool, f.status, f.blocked_by])).toEqual([
      ["edit", "blocked", "allowed_tools.app"],
      ["read", "blocked", "path_guard"],
      ["bash", "blocked", "shell_guard.privilege"],
      ["bash", "blocked", "shell_guard.no_git_push"],
      ["write", "blocked", "path_guard"],
      ["ls", "blocked", "allowed_tools.intent"],
      ["bash", "ok", null],
    ]);
    for (const f of finished.filter((f) => f.status === "blocked")) {
      expect(f.error_type).toBe("policy_denied");
      expect(f.error_message).toMatch(/^blocked by policy \(/);
    }
    expect(finished[3]!.error_message).toContain("pushing is not allowed");

    const decisions = ofKind(events, "policy_decision").map((e) => e.payload);
    const denies = decisions.filter((d) => d.decision.effect === "deny");
    expect(denies.map((d) => d.decision.rule_id)).toEqual(
      finished.slice(0, 6).map((f) => f.blocked_by),
    );
    expect(denies.map((d) => d.tool_call_id)).toEqual(
      finished.slice(0, 6).map((f) => f.tool_call_id),
    );
    expect(denies[1]!.subject).toBe("/etc/passwd");
    expect(denies[2]!.subject).toBe("sudo cat /etc/shadow");
    // The allowed call's decisions: allow-list, the timeout clamp (modify), the shell guard.
    const last = finished.at(-1)!.tool_call_id;
    expect(
      decisions
        .filter((d) => d.tool_call_id === last)
        .map((d) => [d.decision.rule_id, d.decision.effect]),
    ).toEqual([
      ["allowed_tools", "allow"],
      ["limits.bash_timeout", "modify"],
      ["shell_guard", "allow"],
    ]);
    const clampedStart = ofKind(events, "tool_call_started").find(
      (e) => e.payload.tool_call_id === last,
    )!;
    expect(JSON.parse(clampedStart.payload.arguments)).toEqual({
      command: "echo clamped",
      timeout: 999,
    });
    // The model read each refusal as the tool's result.
    const toolMessages = ofKind(events, "message").filter((e) => e.payload.role === "tool");
    expect(toolMessages[0]!.payload.text).toContain("not enabled for this app");
    expect(toolMessages[1]!.payload.text).toContain("outside the run's working directory");
    expect(toolMessages.at(-1)!.payload.text).toContain("clamped");
    // Blocked calls do not count against the tool-call budget.
    expect(ofKind(events, "run_completed")[0]!.payload.usage.tool_calls).toBe(1);
  });
});
