import { readFileSync } from "node:fs";
import { CliError, EXIT } from "./errors";

/** A JSON file the user named: unreadable or not JSON is their input to fix (exit 2). */
export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new CliError(
      `${file}: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.usage,
    );
  }
}
