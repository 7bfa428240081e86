import { CliError, EXIT } from "./errors";

/** Parses a flag's value as a whole number >= 1, or fails with exit code 2. */
export function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`${flag}: '${text}' is not a positive whole number`, EXIT.usage);
  return n;
}
