import { CliError, EXIT } from "./errors";

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A duration no flag may pass: its date from now (or before) stays one a clock can name. */
const MAX_DURATION = { ms: 36_500 * UNITS.d!, text: "36500d (100 years)" };
/**
 * The longest a flag that becomes a timer may ask for: Node runs a longer timeout after 1 ms
 * (a `--poll 25d` follower would poll without pause).
 */
export const TIMER_LIMIT = { ms: 24 * UNITS.d!, text: "24d" };

/** Parses `500ms`, `30s`, `5m`, `2h`, `1d`, `1w` into milliseconds, at most `max`. */
export function parseDuration(text: string, what: string, max = MAX_DURATION): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!match)
    throw new CliError(`${what}: '${text}' is not a duration like 30s, 5m, 2h or 1d`, EXIT.usage);
  const ms = Math.round(Number(match[1]) * UNITS[match[2]!]!);
  if (!(ms <= max.ms))
    throw new CliError(`${what}: '${text}' is longer than ${max.text}`, EXIT.usage);
  return ms;
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
