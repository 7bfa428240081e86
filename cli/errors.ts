/** Exit codes the CLI uses, so scripts can tell a typo from an outage. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  unreachable: 3,
  auth: 4,
  notFound: 5,
} as const;

/** An error meant for the user: printed as `auraison: <message>` and exited with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT.failure,
  ) {
    super(message);
    this.name = "CliError";
  }
}
