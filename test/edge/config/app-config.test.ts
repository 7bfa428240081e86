import { describe, expect, it } from "vitest";
import { ContractValidationError } from "../../../contract";
import { AppConfig } from "../../../edge/config/app-config";
import { loadAppFolder } from "../../../edge/config/app-folder";
import { makeApp } from "../helpers/runtime";

describe("app.json: the loop guard's settings", () => {
  it("refuses a window too short to stop a loop after it was steered", () => {
    // window 4 holds the 4 calls that steer, never the 2 after them that would stop the run.
    const app = makeApp({ appJson: { policy: { loop: { window: 4, repeat_threshold: 4 } } } });
    let error: unknown;
    try {
      loadAppFolder({ app: "lab-notes", appDir: app.dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContractValidationError);
    const issues = (error as ContractValidationError).issues;
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      [
        "policy.loop.window",
        "window (4) must be at least repeat_threshold + stop_after (4 + 2 = 6), or a steered loop is never stopped",
      ],
    ]);
  });

  it("checks the failing threshold the same way", () => {
    const parsed = AppConfig.safeParse({
      policy: { loop: { window: 8, failing_threshold: 7, stop_after: 2 } },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([
      "window (8) must be at least failing_threshold + stop_after (7 + 2 = 9), or a steered loop is never stopped",
    ]);
  });

  it("takes a window that just holds the steer and the stop, and the defaults", () => {
    expect(AppConfig.parse({ policy: { loop: { window: 6 } } }).policy.loop).toEqual({
      repeat_threshold: 4,
      failing_threshold: 3,
      stop_after: 2,
      window: 6,
    });
    expect(AppConfig.parse({}).policy.loop.window).toBe(30);
  });
});
