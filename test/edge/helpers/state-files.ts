import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestApp } from "./runtime";

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

/** All the text the agent wrote to its state dir (outbox, run records, sessions), its socket aside. */
export function stateText(app: TestApp): string {
  return filesUnder(app.stateDir)
    .filter((f) => !f.endsWith(".sock"))
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
}
