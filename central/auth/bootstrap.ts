import { digestsEqual, sha256 } from "./keys";

/** Shortest bootstrap key accepted: anything guessable would open tenant creation. */
export const MIN_BOOTSTRAP_KEY_LENGTH = 32;

/** Whether `presented` is the platform bootstrap key (compared in constant time). */
export async function isBootstrapKey(
  presented: string,
  configured: string | undefined,
): Promise<boolean> {
  if (!configured || configured.length < MIN_BOOTSTRAP_KEY_LENGTH) return false;
  const [a, b] = await Promise.all([sha256(presented), sha256(configured)]);
  return digestsEqual(a, b);
}
