import { randomBytes } from "node:crypto";

/** The platform secrets a test central runs with (fresh for each central). */
export function platformSecrets(): { AURAISON_BOOTSTRAP_KEY: string; AURAISON_KEY_SECRET: string } {
  return {
    AURAISON_BOOTSTRAP_KEY: `aur_boot_${randomBytes(32).toString("base64url")}`,
    AURAISON_KEY_SECRET: randomBytes(32).toString("base64url"),
  };
}
