import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ADAPTER_KINDS } from "../../../edge/adapters/kinds";

/** Every adapter declaration the README shows is one its kind accepts. */
describe("the README's adapter declarations", () => {
  const readme = readFileSync("README.md", "utf8");
  const declarations = [...readme.matchAll(/```json\n([\s\S]*?)```/g)]
    .map(([, body]) => JSON.parse(body!) as { kind?: unknown })
    .filter((d) => typeof d.kind === "string" && d.kind in ADAPTER_KINDS);

  it("covers every kind", () => {
    expect(new Set(declarations.map((d) => d.kind))).toEqual(new Set(Object.keys(ADAPTER_KINDS)));
  });

  it("parses each with its kind, its environment references resolved", () => {
    for (const declaration of declarations) {
      const names = [...JSON.stringify(declaration).matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)];
      const env = Object.fromEntries(names.map(([, name]) => [name!, "value"]));
      const adapter = ADAPTER_KINDS[declaration.kind as string]!(declaration, {
        file: "README.md",
        env,
      });
      expect(adapter.kind).toBe(declaration.kind);
    }
  });
});
