import type { CommanderError } from "commander";
import {
  CentralUnreachableError,
  ContractValidationError,
  Failure,
  type ValidationIssue,
} from "../contract";
import { CliError, EXIT } from "./errors";

/** What went wrong, once, for people (`auraison: <message>`) or for scripts (`--json`). */
export interface Outcome {
  exit: number;
  code: string;
  message: string;
  status?: number;
  issues?: ValidationIssue[];
}

const EXIT_CODES: Record<number, string> = {
  [EXIT.failure]: "failure",
  [EXIT.usage]: "usage",
  [EXIT.unreachable]: "unreachable",
  [EXIT.auth]: "unauthorized",
  [EXIT.notFound]: "not_found",
};

/** Any error a command can end with, as an Outcome; an unexpected one keeps its stack. */
export function failureOf(error: unknown): Outcome {
  if (error instanceof CliError)
    return { exit: error.code, code: EXIT_CODES[error.code] ?? "failure", message: error.message };
  if (error instanceof ContractValidationError)
    return {
      exit: EXIT.usage,
      code: "invalid_input",
      message: `invalid ${error.where}:\n${error.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
      issues: error.issues,
    };
  if (error instanceof CentralUnreachableError)
    return { exit: EXIT.unreachable, code: "unreachable", message: error.message };
  if (error instanceof Failure) {
    const exit =
      error.status === 401 || error.status === 403
        ? EXIT.auth
        : error.status === 404
          ? EXIT.notFound
          : error.status < 500
            ? EXIT.usage
            : EXIT.failure;
    return {
      exit,
      code: error.code,
      status: error.status,
      message: `central answered ${error.status} ${error.code}: ${error.message}`,
      ...(error.issues.length ? { issues: error.issues } : {}),
    };
  }
  const path = pathError(error);
  if (path) return path;
  return {
    exit: EXIT.failure,
    code: "internal",
    message: `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  };
}

/**
 * Why a path given to a command (a folder to create, a state dir, a workdir) cannot be used:
 * the file system refused it, which is the path's fault, not the program's (no stack).
 */
const PATH_ERRORS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a part of the path is not a directory",
  EEXIST: "it exists already",
  EISDIR: "it is a directory",
  ENOSPC: "no space left on the device",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links",
};

function pathError(error: unknown): Outcome | null {
  const e = error as NodeJS.ErrnoException | null;
  const reason = e?.code ? PATH_ERRORS[e.code] : undefined;
  if (!reason || typeof e!.path !== "string") return null;
  return {
    // A full disk is no fault of the path.
    exit: e!.code === "ENOSPC" ? EXIT.failure : EXIT.usage,
    code: "bad_path",
    message: `cannot ${e!.syscall ?? "use"} ${e!.path}: ${reason}`,
  };
}

/** Prints a failure on stderr: a line for people, or one JSON object with --json. */
export function printFailure(failure: Outcome, json: boolean): void {
  if (json) {
    const { exit, ...error } = failure;
    process.stderr.write(`${JSON.stringify({ error: { ...error, exit_code: exit } })}\n`);
  } else process.stderr.write(`auraison: ${failure.message}\n`);
}

/** Commander's own refusals (unknown option, missing argument), with the usage exit code. */
export function commanderFailure(error: CommanderError): Outcome {
  if (error.code === "commander.help")
    return {
      exit: EXIT.usage,
      code: "missing_command",
      message: "a command is missing: see --help",
    };
  return {
    exit: EXIT.usage,
    code: error.code.replace(/^commander\./, "").replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
    message: error.message.replace(/^error: /, ""),
  };
}
