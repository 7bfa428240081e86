import { CliError, EXIT } from "./errors";

/**
 * Parses a flag's value as a whole number >= `min` in decimal digits, or fails with exit code 2:
 * nothing is read out of `2abc`, `1.9`, `1e3` or an empty value.
 */
export function wholeNumber(text: string, flag: string, min = 0): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min)
    throw new CliError(`${flag}: '${text}' is not a whole number >= ${min}`, EXIT.usage);
  return n;
}

/** Parses a flag's value as a whole number >= 1, or fails with exit code 2. */
export function positive(text: string, flag: string): number {
  return wholeNumber(text, flag, 1);
}

/** Parses a flag's value as an amount >= 0 (`2`, `0.25`), or fails with exit code 2. */
export function amount(text: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(text))
    throw new CliError(`${flag}: '${text}' is not an amount >= 0 like 2 or 0.25`, EXIT.usage);
  return Number(text);
}
