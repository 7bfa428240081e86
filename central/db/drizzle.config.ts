import { defineConfig } from "drizzle-kit";

/** `npx drizzle-kit generate --config central/db/drizzle.config.ts` after changing schema.ts. */
export default defineConfig({
  dialect: "sqlite",
  driver: "durable-sqlite",
  schema: [
    "./central/db/schema.ts",
    "./central/gateway/tenant/schema.ts",
    "./central/metrics/schema.ts",
  ],
  out: "./central/db/migrations",
});
