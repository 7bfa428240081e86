import { ContractValidationError } from "../../contract";

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Resolves `${NAME}` references in a declaration's value, so secrets stay out of app folders.
 * `${NAME:-default}` falls back to the default when NAME is unset (an endpoint that is usually
 * on the lab host, never a secret). Every adapter kind resolves through this one function:
 * where the values come from (today the host's environment) changes here and nowhere else.
 */
export function resolveReferences(
  value: string,
  env: NodeJS.ProcessEnv,
  file: string,
  where: string,
): string {
  return value.replace(REFERENCE, (_, name: string, fallback: string | undefined) => {
    const found = env[name] ?? fallback;
    if (found === undefined) {
      throw new ContractValidationError(file, [
        {
          path: where,
          expected: `environment variable ${name}`,
          message: `${name} is not set`,
          code: "missing_env",
        },
      ]);
    }
    return found;
  });
}

/** `resolveReferences` over each value of a string map (headers, environment variables). */
export function resolveReferenceMap(
  values: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv,
  file: string,
  where: string,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      resolveReferences(value, env, file, `${where}.${key}`),
    ]),
  );
}

/** Every `${NAME}` or `${NAME:-default}` in a value, for checks made before resolution. */
export function withoutReferences(value: string, standIn = "reference"): string {
  return value.replace(REFERENCE, standIn);
}

/**
 * An http(s) URL field (a service's base URL, a dashboard's address) with its references
 * resolved, and checked again once they are.
 */
export function resolveUrl(
  value: string,
  env: NodeJS.ProcessEnv,
  file: string,
  where: string,
): string {
  const url = resolveReferences(value, env, file, where);
  if (!isHttpUrl(url))
    throw new ContractValidationError(file, [
      {
        path: where,
        expected: "an http:// or https:// URL",
        message: `${JSON.stringify(url)} (resolved from ${JSON.stringify(value)}) is not an http(s) URL`,
        code: "invalid_format",
      },
    ]);
  return url;
}

export function isHttpUrl(value: string): boolean {
  try {
    return /^https?:$/.test(new URL(value).protocol);
  } catch {
    return false;
  }
}
