import { describe, expect, it } from "vitest";
import { CliError, EXIT } from "../../../cli/errors";
import { asCliError } from "../../../cli/memory/lake";

describe("a lake's errors at the command line", () => {
  it("never carry the catalog's password, whatever raised them", () => {
    const quoting = "postgres:host=db user=lake password=hunter2 dbname=x";
    const duckdb = asCliError(new Error(`IO Error: Unable to connect to ${quoting}`));
    expect(duckdb).toBeInstanceOf(CliError);
    expect((duckdb as CliError).code).toBe(EXIT.failure);
    const crash = asCliError(new TypeError(`cannot read ${quoting}`)) as Error;
    for (const error of [duckdb as Error, crash]) {
      expect(error.message).toContain("password=***");
      expect(`${error.message}\n${error.stack}`).not.toContain("hunter2");
    }
  });
});
