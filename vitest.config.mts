import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Both projects' temporary files under one directory, removed when the run ends.
    globalSetup: ["./test/helpers/temp-root.ts"],
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          // test/central runs in workerd, except *.node.test.ts: those drive `wrangler dev` from Node.
          exclude: ["test/central/**/!(*.node).test.ts"],
          // Tests spawn `node bin/auraison.js`, which runs dist/: built here once, up to date.
          globalSetup: ["./test/helpers/build-dist.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            // The platform's Worker with a tenant clock tests can turn forward (no sleeping to a deadline).
            main: "./test/central/test-worker.ts",
            wrangler: { configPath: "./wrangler.toml" },
            // The AI binding is remote-only; tests run without a Cloudflare account.
            remoteBindings: false,
            // Platform settings as a local stack has them (the bootstrap key is set per request).
            miniflare: {
              bindings: {
                AURAISON_KEY_SECRET: "test-key-signing-secret-0123456789abcdef",
                AURAISON_PRIVATE_UPSTREAMS: "allow",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/central/**/*.test.ts"],
          exclude: ["test/central/**/*.node.test.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
