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

/** Validates without throwing; the boundary decides how to answer. */
export function check<S extends z.ZodType>(schema: S, input: unknown): Parsed<z.output<S>> {
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
