import type { z } from "zod";
import { check } from "../contract";
import type { Logger } from "./log";

/**
 * A Worker var holding JSON an operator wrote (`AURAISON_PROVIDER_SECRETS`,
 * `AURAISON_PDDL_PLANNER`), checked against its contract schema once per value and kept per
 * isolate: an invalid value is logged with the schema's issues and `fallback` is used, so a
 * typo in the operator's configuration never fails a request.
 */
export function envJson<S extends z.ZodType, F>(
  schema: S,
  options: { name: string; schemaName: string; fallback: F; unused: string; log: Logger },
): (raw: string | undefined) => z.output<S> | F {
  const parsed = new Map<string, z.output<S> | F>();
  return (raw) => {
    if (!raw) return options.fallback;
    if (parsed.has(raw)) return parsed.get(raw) as z.output<S> | F;
    let json: unknown = null;
    try {
      json = JSON.parse(raw);
    } catch {}
    const result = check(schema, json);
    if (!result.ok)
      options.log.error(
        `${options.name} is not valid ${options.schemaName} JSON; ${options.unused}`,
        {
          issues: result.issues,
        },
      );
    const value = result.ok ? result.value : options.fallback;
    parsed.set(raw, value);
    return value;
  };
}
