import { ContractValidationError, own } from "../../contract";

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Where `${NAME}` references resolve: the host's environment, or a run's view of it. */
export type ReferenceValues = Readonly<Record<string, string | undefined>>;

/**
 * Resolves `${NAME}` references in a declaration's value, so secrets stay out of app folders.
 * `${NAME:-default}` falls back to the default when NAME is unset or empty, as the shell's `:-`
 * does (a systemd `Environment=NAME=` or an env file's `NAME=` line leaves it empty); the
 * default is for an endpoint that is usually on the lab host, never a secret. Every adapter kind resolves through this one function.
 * Kinds that connect when the agent starts resolve from the host's environment; what is resolved
 * per call (http-json's headers, openai-inference's api_key) resolves from `runValues`: the
 * run's tenant secrets first, then the environment.
 */
export function resolveReferences(
  value: string,
  values: ReferenceValues,
  file: string,
  where: string,
): string {
  return value.replace(REFERENCE, (_, name: string, fallback: string | undefined) => {
    const found = own(values, name);
    const value =
      found === undefined || (found === "" && fallback !== undefined) ? fallback : found;
    if (value === undefined) throw missing(file, where, name);
    return value;
  });
}

/** `resolveReferences` over each value of a string map (headers, environment variables). */
export function resolveReferenceMap(
  values: Readonly<Record<string, string>>,
  from: ReferenceValues,
  file: string,
  where: string,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      resolveReferences(value, from, file, `${where}.${key}`),
    ]),
  );
}

/** Every `${NAME}` or `${NAME:-default}` in a value, for checks made before resolution. */
export function withoutReferences(value: string, standIn = "reference"): string {
  return value.replace(REFERENCE, standIn);
}

/** The schemes a URL field may have, by the kind of service it points at. */
const URL_SCHEMES = {
  http: {
    protocols: ["http:", "https:"],
    expected: "an http:// or https:// URL",
    name: "an http(s)",
  },
  ws: { protocols: ["ws:", "wss:"], expected: "a ws:// or wss:// URL", name: "a ws(s)" },
} as const;
export type UrlScheme = keyof typeof URL_SCHEMES;

/**
 * A URL field (a service's base URL, a dashboard's address, a websocket) with its references
 * resolved, and checked again once they are: a reference resolved to something else (an empty
 * host, another scheme) stops the agent naming the file and field, not the first call.
 */
export function resolveUrl(
  value: string,
  values: ReferenceValues,
  file: string,
  where: string,
  scheme: UrlScheme = "http",
): string {
  const url = resolveReferences(value, values, file, where);
  if (!isUrlOf(url, scheme))
    throw new ContractValidationError(file, [
      {
        path: where,
        expected: URL_SCHEMES[scheme].expected,
        message: `${JSON.stringify(url)} (resolved from ${JSON.stringify(value)}) is not ${URL_SCHEMES[scheme].name} URL`,
        code: "invalid_format",
      },
    ]);
  return url;
}

export function isHttpUrl(value: string): boolean {
  return isUrlOf(value, "http");
}

function isUrlOf(value: string, scheme: UrlScheme): boolean {
  try {
    return (URL_SCHEMES[scheme].protocols as readonly string[]).includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** What a call of a run resolves from: the tenant secrets central handed the run, then the host's environment. */
export function runValues(
  env: ReferenceValues,
  secrets: Readonly<Record<string, string>> | undefined,
): ReferenceValues {
  return secrets && Object.keys(secrets).length > 0 ? { ...env, ...secrets } : env;
}

/**
 * Checks, when the agent starts, references that resolve per call: each must name a secret the
 * app declares (app.json `secrets`), be set in the environment or have a default, so a typo
 * fails the start, not a run.
 */
export function checkReferences(
  value: string,
  env: ReferenceValues,
  declared: readonly string[],
  file: string,
  where: string,
): void {
  for (const [, name, fallback] of value.matchAll(REFERENCE))
    if (own(env, name!) === undefined && fallback === undefined && !declared.includes(name!))
      throw missing(file, where, name!);
}

/** `checkReferences` over each value of a string map. */
export function checkReferenceMap(
  values: Readonly<Record<string, string>>,
  env: ReferenceValues,
  declared: readonly string[],
  file: string,
  where: string,
): void {
  for (const [key, value] of Object.entries(values))
    checkReferences(value, env, declared, file, `${where}.${key}`);
}

function missing(file: string, where: string, name: string): ContractValidationError {
  return new ContractValidationError(file, [
    {
      path: where,
      expected: `a secret the app declares or an environment variable ${name}`,
      message: `${name} is not set`,
      code: "missing_env",
    },
  ]);
}
