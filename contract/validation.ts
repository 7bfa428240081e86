import type { z } from "zod";

/** One thing wrong with an input: where, what was expected, and a sentence for humans. */
export interface ValidationIssue {
  /** JSON-path-like location, e.g. `targets[0].agent_id`; `$` is the root. */
  path: string;
  expected: string;
  message: string;
  code: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

export class ContractValidationError extends Error {
  readonly issues: ValidationIssue[];
  readonly where: string;

  constructor(where: string, issues: ValidationIssue[]) {
    super(`${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
    this.name = "ContractValidationError";
    this.where = where;
    this.issues = issues;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || "$";
}

function describeExpected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}`;
    case "invalid_format":
      return issue.format === "regex" ? `match ${issue.pattern}` : issue.format;
    case "too_small":
      return `${issue.origin} ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return `${issue.origin} ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "unrecognized_keys":
      return `no key ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    case "invalid_union":
      return "discriminator" in issue && issue.discriminator
        ? `${String(issue.discriminator)} one of ${(issue as { options?: unknown[] }).options?.map((o) => JSON.stringify(o)).join(" | ")}`
        : "one of the allowed shapes";
    case "not_multiple_of":
      return `multiple of ${issue.divisor}`;
    case "invalid_key":
      return "valid key";
    case "invalid_element":
      return "valid element";
    default:
      return "valid value";
  }
}

export function toIssues(error: z.core.$ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path),
    expected: describeExpected(issue),
    message: issue.message,
    code: issue.code,
  }));
}

/**
 * Deepest nesting of arrays and objects any input may have. Validating a recursive schema (a
 * JSON value) recurses once per level, so an input nested thousands deep would overflow the
 * stack; it is refused before validation instead, at every boundary (`check`).
 */
export const MAX_JSON_DEPTH = 64;

/** Where `input` first nests deeper than `limit`, or null; walks iteratively, never recursing. */
export function depthIssue(input: unknown, limit: number = MAX_JSON_DEPTH): ValidationIssue | null {
  if (input === null || typeof input !== "object") return null;
  interface Frame {
    value: object;
    depth: number;
    key: PropertyKey | null;
    parent: Frame | null;
  }
  const stack: Frame[] = [{ value: input, depth: 1, key: null, parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth > limit) {
      const path: PropertyKey[] = [];
      for (let f: Frame | null = frame; f?.key != null; f = f.parent) path.unshift(f.key);
      return {
        path: formatPath(path),
        expected: `JSON nested at most ${limit} levels deep`,
        message: `nested deeper than ${limit} levels`,
        code: "too_deep",
      };
    }
    const depth = frame.depth + 1;
    if (Array.isArray(frame.value)) {
      for (let i = 0; i < frame.value.length; i++) {
        const value: unknown = frame.value[i];
        if (value !== null && typeof value === "object")
          stack.push({ value, depth, key: i, parent: frame });
      }
    } else {
      const object = frame.value as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        const value = object[key];
        if (value !== null && typeof value === "object")
          stack.push({ value, depth, key, parent: frame });
      }
    }
  }
  return null;
}

/** Validates without throwing; the boundary decides how to answer. */
export function check<S extends z.ZodType>(schema: S, input: unknown): Parsed<z.output<S>> {
  const tooDeep = depthIssue(input);
  if (tooDeep) return { ok: false, issues: [tooDeep] };
  const result = schema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: toIssues(result.error) };
}

/** Validates or throws a ContractValidationError naming `where` the input came from. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = check(schema, input);
  if (!result.ok) throw new ContractValidationError(where, result.issues);
  return result.value;
}

/** JSON with object keys sorted at every level: equal values give equal text (for digests). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.keys(inner)
            .sort()
            .map((k) => [k, (inner as Record<string, unknown>)[k]]),
        )
      : inner,
  );
}
