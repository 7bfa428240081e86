import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/central/**"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            main: "./central/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
          }),
        ],
        test: { name: "workers", include: ["test/central/**/*.test.ts"], testTimeout: 30_000 },
      },
    ],
  },
});
