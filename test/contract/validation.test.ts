import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ContractValidationError, check, formatPath, IntentRequest, parse } from "../../contract";

describe("formatPath", () => {
  it("renders paths readably", () => {
    expect(formatPath([])).toBe("$");
    expect(formatPath(["targets", 0, "agent_id"])).toBe("targets[0].agent_id");
    expect(formatPath(["params", "odd key"])).toBe('params["odd key"]');
  });
});

describe("structured issues", () => {
  it("name the path and what was expected for each problem", () => {
    const result = check(IntentRequest, {
      targets: [{ agent_id: 7 }],
      deadline: "soon",
      budget: { max_tokens: -1 },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byPath = Object.fromEntries(result.issues.map((i) => [i.path, i]));
    expect(byPath.deadline?.expected).toBe("datetime");
    expect(byPath["budget.max_tokens"]?.expected).toBe("number >= 0");
    expect(Object.keys(byPath)).toContain("targets[0]");
  });

  it("describe enums, unknown keys and sizes", () => {
    const schema = z.strictObject({ mode: z.enum(["a", "b"]), list: z.array(z.string()).max(1) });
    const result = check(schema, { mode: "c", list: ["x", "y"], extra: true });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const expected = Object.fromEntries(result.issues.map((i) => [i.path, i.expected]));
    expect(expected.mode).toBe('one of "a" | "b"');
    expect(expected.list).toBe("array <= 1");
    expect(expected.$).toBe('no key "extra"');
  });

  it("parse throws an error that says where the input came from", () => {
    try {
      parse(IntentRequest, { targets: [] }, "POST /v1/intents body");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ContractValidationError);
      expect((error as ContractValidationError).message).toMatch(
        /^POST \/v1\/intents body: targets:/,
      );
    }
  });
});
