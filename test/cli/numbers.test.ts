import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli";

/** Number and duration flags on the real CLI: a value that is not one is a usage error (exit 2). */
const env = {
  AURAISON_HOME: mkdtempSync(join(tmpdir(), "auraison-numbers-")),
  // Nothing listens here: a value let through would fail as unreachable (exit 3) instead.
  AURAISON_URL: "http://127.0.0.1:9",
  AURAISON_KEY: "k",
};

describe("number and duration flags", () => {
  it.each([
    [
      ["plan", "submit", "goal", "--max-replans", "2abc"],
      "--max-replans: '2abc' is not a whole number >= 0",
    ],
    [
      ["plan", "submit", "goal", "--max-replans", "1.9"],
      "--max-replans: '1.9' is not a whole number >= 0",
    ],
    [
      ["plan", "submit", "goal", "--max-tokens", "1e3"],
      "--max-tokens: '1e3' is not a whole number >= 1",
    ],
    [["plan", "submit", "goal", "--max-cost", ""], "--max-cost: '' is not an amount >= 0"],
    [
      ["intent", "submit", "--app", "a", "x", "--max-tokens", ""],
      "--max-tokens: '' is not a whole number >= 0",
    ],
    [
      ["intent", "submit", "--app", "a", "x", "--max-tokens", "2.5"],
      "--max-tokens: '2.5' is not a whole number >= 0",
    ],
    [["intent", "submit", "--app", "a", "x", "--max-wall", ""], "--max-wall: '' is not a duration"],
    [
      ["intent", "submit", "--app", "a", "x", "--max-cost", "0x10"],
      "--max-cost: '0x10' is not an amount >= 0",
    ],
    [["intent", "submit", "--app", "a", "x", "--deadline", ""], "--deadline: '' is not a duration"],
    [["events", "--after", ""], "--after: '' is not a whole number >= 0"],
  ])("refuses %j", async (args, message) => {
    const r = await runCli(args, { env });
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
  });
});
