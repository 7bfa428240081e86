// Types `exports` from "cloudflare:workers" (and ctx.exports) after the Worker's main module.
type CentralEnv = import("./env").Env;

declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index");
    durableNamespaces: "TenantAgent";
  }
  interface Env extends CentralEnv {}
}

// drizzle-kit's generated migration bundle (see central/db/drizzle.config.ts).
declare module "*/migrations/migrations.js" {
  const migrations: {
    journal: { entries: { idx: number; when: number; tag: string; breakpoints: boolean }[] };
    migrations: Record<string, string>;
  };
  export default migrations;
}
declare module "*.sql" {
  const sql: string;
  export default sql;
}
