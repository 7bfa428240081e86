// Types `exports` from "cloudflare:workers" (and ctx.exports) after the Worker's main module.
type CentralEnv = import("./env").Env;

declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index");
    durableNamespaces: "TenantAgent";
  }
  interface Env extends CentralEnv {}
}
