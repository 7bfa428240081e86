import type { PLATFORM_ENV } from "./env";

// A binding added to wrangler.toml or a secret added to globals.d.ts without being listed in
// PLATFORM_ENV fails to compile here (this file is compiled with the Workers types; env.ts is
// also read by Node-side tests, which have none).
type Unlisted = Exclude<keyof Env, (typeof PLATFORM_ENV)[number]>;
type Unknown = Exclude<(typeof PLATFORM_ENV)[number], keyof Env>;
export const PLATFORM_ENV_IS_COMPLETE: [Unlisted | Unknown] extends [never] ? true : never = true;
