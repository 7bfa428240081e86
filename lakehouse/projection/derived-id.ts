import { createHash } from "node:crypto";

/**
 * The id of a fact derived from an event: a UUIDv7 with the source event's timestamp (so it
 * sorts with the log) and the rest from a hash of the projection and the source id. A rebuild, or
 * a re-run after a crash, derives the same ids, so projections never duplicate.
 */
export function derivedId(sourceEventId: string, projection: string): string {
  const time = sourceEventId.replace(/-/g, "").slice(0, 12);
  const hash = createHash("sha256").update(`${projection}\u0000${sourceEventId}`).digest("hex");
  const variant = (8 + (Number.parseInt(hash[3]!, 16) & 3)).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hash.slice(0, 3)}-${variant}${hash.slice(4, 7)}-${hash.slice(7, 19)}`;
}
