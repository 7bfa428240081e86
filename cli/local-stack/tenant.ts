import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
  CentralClient,
  Failure,
  KeyCreated,
  KeyList,
  PATHS,
  type Role,
  TenantCreated,
} from "../../contract";
import { replaceFileSync } from "../../edge/state-files";
import { CliError } from "../errors";
import { type LocalSettings, readLocalSettings, writeLocalSettings } from "../settings";

export const LOCAL_TENANT = "local";

/**
 * The local stack's tenant and admin key: created on the first start (the key is returned so it
 * can be printed once, and saved 0600 in local.json at once, since it is shown only once),
 * reused on every later start. A later start's new URL is not saved here: the stack saves it
 * once everything is up, so a start that fails leaves local.json pointing where it did.
 */
export async function ensureLocalTenant(
  url: string,
  bootstrapKey: string,
  home: string,
): Promise<{ settings: LocalSettings; newAdminKey: string | null }> {
  const saved = readLocalSettings(home);
  if (saved && saved.tenant === LOCAL_TENANT) {
    const client = new CentralClient({ url, key: saved.admin_key });
    try {
      await client.request("GET", PATHS.keys, KeyList);
      return { settings: { ...saved, url }, newAdminKey: null };
    } catch (error) {
      if (!(error instanceof Failure && error.status === 401)) throw error;
    }
  }
  const bootstrap = new CentralClient({ url, key: bootstrapKey });
  let created: z.infer<typeof TenantCreated>;
  try {
    created = await bootstrap.request("POST", PATHS.tenants, TenantCreated, {
      tenant: LOCAL_TENANT,
    });
  } catch (error) {
    if (error instanceof Failure && error.status === 409)
      throw new CliError(
        `tenant '${LOCAL_TENANT}' exists in central's local state but ${join(home, "local.json")} holds no working admin key for it; ` +
          `to start over, stop auraison and remove ${home}`,
      );
    throw error;
  }
  const settings: LocalSettings = {
    url,
    tenant: created.tenant,
    admin_key: created.admin_key.key,
    admin_key_id: created.admin_key.id,
    written_at: new Date().toISOString(),
  };
  writeLocalSettings(settings, home);
  return { settings, newAdminKey: created.admin_key.key };
}

const SavedKey = z.object({ id: z.string(), key: z.string() });

/**
 * A key the local stack holds for one of its components (an edge agent, the memory projector),
 * saved 0600 under `<home>/keys/<name>.json` and recreated if central no longer knows it.
 */
export async function ensureComponentKey(
  admin: CentralClient,
  home: string,
  name: string,
  role: Role,
  app?: string,
): Promise<string> {
  const file = join(home, "keys", `${name}.json`);
  const saved = readSavedKey(file);
  if (saved) {
    const { keys } = await admin.request("GET", PATHS.keys, KeyList);
    if (keys.some((k) => k.id === saved.id && k.revoked_at === null)) return saved.key;
  }
  const created = await admin.request("POST", PATHS.keys, KeyCreated, {
    role,
    name: `local stack: ${name}`,
    ...(app ? { app } : {}),
  });
  mkdirSync(join(home, "keys"), { recursive: true });
  replaceFileSync(file, `${JSON.stringify({ id: created.id, key: created.key })}\n`);
  return created.key;
}

/** The saved key, or null when there is none or it is damaged (cut short, edited): made anew. */
function readSavedKey(file: string): z.infer<typeof SavedKey> | null {
  if (!existsSync(file)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
  const parsed = SavedKey.safeParse(value);
  return parsed.success ? parsed.data : null;
}
