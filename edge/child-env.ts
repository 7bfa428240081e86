/**
 * The environment of the processes the agent starts for others to drive: stdio MCP servers and
 * the model's shell (pi's bash tool). They get only these variables of the agent's own
 * environment, never the rest of it: the agent's key, the fallback key, provider keys and the
 * host's adapter secrets (systemd's EnvironmentFile) are the agent's, not theirs to read.
 */
export const INHERITED_ENV: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "TERM",
  "LANG",
  "TMPDIR",
  "TZ",
];

/** The variables of `INHERITED_ENV` that `source` sets. */
export function minimalEnv(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
