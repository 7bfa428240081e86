import type { z } from "zod";
import { SchemaCompileError } from "./compile";

/** zod schema kinds whose every rule the JSON Schema carries (and the fast check reads). */
const PLAIN = new Set([
  "string",
  "number",
  "int",
  "boolean",
  "null",
  "object",
  "record",
  "array",
  "union",
  "enum",
  "literal",
  "nullable",
  "optional",
  "default",
  "lazy",
]);

interface Def {
  type: string;
  checks?: { _zod: { def: { check: string } } }[];
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

/**
 * Refuses a schema with a rule JSON Schema cannot carry (a refinement, a transform, a pipe): a
 * check compiled from the JSON Schema would miss it. Reads zod's definition tree (`_zod.def`,
 * the interface zod documents for tools that walk schemas).
 */
export function assertRepresentable(
  schema: z.ZodType,
  path = "$",
  seen = new Set<unknown>(),
): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  if (!PLAIN.has(def.type))
    throw new SchemaCompileError(path, `a zod '${def.type}' has rules JSON Schema does not carry`);
  for (const check of def.checks ?? [])
    if (check._zod.def.check === "custom")
      throw new SchemaCompileError(path, "a zod refinement is not in the JSON Schema");
  const children: [string, z.ZodType | undefined][] = [
    ...Object.entries(def.shape ?? {}).map(([k, v]): [string, z.ZodType] => [`${path}.${k}`, v]),
    ...(def.options ?? []).map((o): [string, z.ZodType] => [path, o]),
    [path, def.innerType],
    [`${path}[*]`, def.element],
    [path, def.keyType],
    [path, def.valueType],
    [path, def.getter?.()],
  ];
  for (const [at, child] of children) if (child) assertRepresentable(child, at, seen);
}
