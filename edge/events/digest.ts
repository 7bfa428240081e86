import { createHash } from "node:crypto";

/** JSON with object keys sorted, so equal arguments always serialise (and digest) the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : v,
  );
}

/** Hex SHA-256 of the canonical arguments: what `args_digest` and the loop guard compare. */
export function argsDigest(args: unknown): string {
  return textDigest(canonicalJson(args ?? null));
}

/** Hex SHA-256 of a text (a tool's result, which the loop guard compares). */
export function textDigest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
