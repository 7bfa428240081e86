import { CliError, EXIT } from "./errors";

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses `500ms`, `30s`, `5m`, `2h`, `1d`, `1w` into milliseconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!match)
    throw new CliError(`${what}: '${text}' is not a duration like 30s, 5m, 2h or 1d`, EXIT.usage);
  return Math.round(Number(match[1]) * UNITS[match[2]!]!);
}

/** An ISO timestamp, or a duration from now (`10m` = ten minutes from now). */
export function parseDeadline(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const at = new Date(text);
    if (Number.isNaN(at.getTime()))
      throw new CliError(`--deadline: '${text}' is not a valid time`, EXIT.usage);
    return at.toISOString();
  }
  return new Date(Date.now() + parseDuration(text, "--deadline")).toISOString();
}
