import type { KeySource } from "../admission";
import { secretRefusal } from "./offers";
import { MIN_KEK_LENGTH, openKey } from "./sealed-keys";

/** A provider credential that cannot be had right now (a missing secret, a wrong KEK). */
export class KeyUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyUnavailable";
  }
}

/** The slot a sealed key is bound to: the provider id, and which of its keys. */
export const keySlot = (provider: string, which: "key" | "gateway_token") => `${provider}#${which}`;

/**
 * The plain key behind a reference, for a call to `host`: a Worker secret the operator offers
 * to this tenant for that host (checked again here, at call time, so a config stored before an
 * offer changed cannot reach it), or the tenant's own key sealed under the KEK.
 */
export async function resolveKey(
  source: KeySource | undefined,
  env: Env,
  tenant: string,
  slot: string,
  host: string,
): Promise<string | null> {
  if (!source) return null;
  if ("secret" in source) {
    const refused = secretRefusal(source.secret, tenant, host, env);
    if (refused) throw new KeyUnavailable(refused);
    const value = (env as unknown as Record<string, unknown>)[source.secret];
    if (typeof value !== "string" || value === "")
      throw new KeyUnavailable(`the Worker secret ${source.secret} is not set`);
    return value;
  }
  const kek = env.AURAISON_GATEWAY_KEK;
  if (!kek || kek.length < MIN_KEK_LENGTH)
    throw new KeyUnavailable("AURAISON_GATEWAY_KEK is not set, so stored keys cannot be opened");
  try {
    return await openKey(kek, tenant, slot, source.sealed);
  } catch {
    throw new KeyUnavailable("the stored key does not open with this AURAISON_GATEWAY_KEK");
  }
}
