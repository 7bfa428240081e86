import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MIGRATIONS, openLake } from "../../../lakehouse";
import { localLake, tempDir } from "../fixture";

describe("creating a local lake", () => {
  it("lets writers that start at once on a fresh lake share the one that gets created", async () => {
    const dir = tempDir();
    const location = localLake(dir);
    const lakes = await Promise.all([1, 2, 3].map(() => openLake(location, { env: {} })));
    try {
      for (const lake of lakes) {
        const applied = await lake.connection.runAndReadAll(
          "SELECT version FROM memory.schema_migrations ORDER BY version",
        );
        expect(applied.getRows().flat()).toEqual(MIGRATIONS.map((m) => m.version));
      }
    } finally {
      for (const lake of lakes) lake.close();
    }
    const reader = await openLake(location, { readOnly: true, env: {} });
    reader.close();
    expect([...readFileSync(join(dir, "catalog.sqlite")).subarray(18, 20)]).toEqual([2, 2]);
    expect(existsSync(join(dir, "catalog.sqlite.creating"))).toBe(false);
  });
});
