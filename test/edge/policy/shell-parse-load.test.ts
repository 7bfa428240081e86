import { describe, expect, it, vi } from "vitest";

// The real module, with its first Parser.init failing (as a load that ran out of memory would).
vi.mock("web-tree-sitter", async (importOriginal) => {
  const real = await importOriginal<typeof import("web-tree-sitter")>();
  let failed = false;
  const init = real.Parser.init.bind(real.Parser);
  real.Parser.init = (async (...args: Parameters<typeof init>) => {
    if (!failed) {
      failed = true;
      throw new Error("could not load the parser");
    }
    return init(...args);
  }) as typeof init;
  return real;
});

const { parseShellCommand } = await import("../../../edge/policy/shell-parse");

describe("the shell parser's load", () => {
  it("is tried again after it failed, rather than failing every line until a restart", async () => {
    await expect(parseShellCommand("ls")).rejects.toThrow("could not load the parser");
    expect(await parseShellCommand("ls; touch x")).toMatchObject({
      commands: ["ls", "touch x"],
      unsupported: null,
    });
  });
});
