import { join } from "node:path";
import { CentralClient, GatewayModelList, PATHS } from "../../contract";
import { readLocalSettings } from "../settings";
import { ensureComponentKey } from "./tenant";

export type LocalStack =
  | { kind: "none" }
  | { kind: "stopped"; url: string }
  | {
      kind: "running";
      url: string;
      /** An agent key of the app's own, app-scoped, saved 0600 with the stack's other keys. */
      key: string;
      keyFile: string;
      /** Whether the tenant's gateway has a model provider to route `auto` to. */
      hasProvider: boolean;
    };

/**
 * The local stack `auraison dev` runs from this state dir, as seen by an edge agent given no
 * central: found the way every other command finds it (local.json), then asked for an agent key
 * for `app` with the stack's admin key, as the stack does for its own edge agent.
 */
export async function findLocalStack(app: string, home: string): Promise<LocalStack> {
  const saved = readLocalSettings(home);
  if (!saved) return { kind: "none" };
  if (!(await healthy(saved.url))) return { kind: "stopped", url: saved.url };
  const admin = new CentralClient({ url: saved.url, key: saved.admin_key });
  const name = `edge-${app}`;
  const key = await ensureComponentKey(admin, home, name, "agent", app);
  return {
    kind: "running",
    url: saved.url,
    key,
    keyFile: join(home, "keys", `${name}.json`),
    hasProvider: await gatewayHasProvider(new CentralClient({ url: saved.url, key })),
  };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(new URL(PATHS.health, url), {
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Whether the gateway has a model agents can be routed to: a provider's model (aliases are owned
 * by `auraison`) that a model answers, not a script (like the stack's own scripted planner, which
 * answers central's planning calls only).
 */
async function gatewayHasProvider(client: CentralClient): Promise<boolean> {
  const { data } = await client.request("GET", PATHS.models, GatewayModelList);
  return data.some((m) => m.owned_by !== "auraison" && !m.scripted);
}
