import { describe, expect, it } from "vitest";
import {
  evaluatePolicies,
  type PolicyHook,
  type PolicyRequest,
  type PolicyScope,
  toolAllowed,
} from "../../contract";

const scope: PolicyScope = { tenant: "acme", principal: "key_1", budget: {} };
const request: PolicyRequest = {
  hook: "tool_call",
  run_id: "r",
  tool_call_id: "c",
  tool: "bash",
  input: { command: "sleep 900", timeout: 900 },
  workdir: "/tmp/w",
};

const allow: PolicyHook = () => ({ effect: "allow", rule_id: "ok", reason: "fine" });
const abstain: PolicyHook = () => null;
const deny: PolicyHook = () => ({ effect: "deny", rule_id: "no", reason: "not today" });
const clamp: PolicyHook = (req) =>
  req.hook === "tool_call"
    ? {
        effect: "modify",
        rule_id: "clamp",
        reason: "timeout capped",
        modified_input: { ...(req.input as object), timeout: 60 },
      }
    : null;

describe("evaluatePolicies", () => {
  it("allows by default when no hook objects", async () => {
    const outcome = await evaluatePolicies([abstain], request, scope);
    expect(outcome.final).toMatchObject({ effect: "allow", rule_id: "default" });
    expect(outcome.decisions).toEqual([]);
  });

  it("stops at the first deny and keeps earlier decisions for the audit trail", async () => {
    let called = false;
    const spy: PolicyHook = () => {
      called = true;
      return null;
    };
    const outcome = await evaluatePolicies([allow, deny, spy], request, scope);
    expect(outcome.final).toMatchObject({ effect: "deny", rule_id: "no" });
    expect(outcome.decisions.map((d) => d.rule_id)).toEqual(["ok", "no"]);
    expect(called).toBe(false);
  });

  it("feeds a modified input to later hooks and returns it", async () => {
    let seen: unknown;
    const observe: PolicyHook = (req) => {
      seen = req.hook === "tool_call" ? req.input : null;
      return null;
    };
    const outcome = await evaluatePolicies([clamp, observe], request, scope);
    expect(outcome.final.effect).toBe("modify");
    expect(seen).toEqual({ command: "sleep 900", timeout: 60 });
    expect(outcome.input).toEqual({ command: "sleep 900", timeout: 60 });
  });

  it("fails closed when a hook throws", async () => {
    const broken: PolicyHook = () => {
      throw new Error("rules file unreadable");
    };
    const outcome = await evaluatePolicies([broken, allow], request, scope);
    expect(outcome.final).toMatchObject({ effect: "deny", rule_id: "policy_error" });
    expect(outcome.final.reason).toContain("rules file unreadable");
  });
});

describe("toolAllowed", () => {
  it("allows everything without an allow-list and nothing with an empty one", () => {
    expect(toolAllowed("bash", undefined)).toBe(true);
    expect(toolAllowed("bash", [])).toBe(false);
  });

  it("matches names and globs exactly", () => {
    expect(toolAllowed("http.get", ["http.*"])).toBe(true);
    expect(toolAllowed("httpxget", ["http.*"])).toBe(false);
    expect(toolAllowed("read", ["read", "bash"])).toBe(true);
    expect(toolAllowed("reader", ["read"])).toBe(false);
  });
});
