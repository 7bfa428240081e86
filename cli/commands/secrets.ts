import { readFileSync } from "node:fs";
import type { Command } from "commander";
import {
  PATHS,
  parse,
  SecretInfo,
  SecretList,
  SecretSetRequest,
  TenantSecretName,
} from "../../contract";
import { centralClient, globals } from "../context";
import { CliError, EXIT } from "../errors";
import { printRows } from "../output";

const COLUMNS = ["name", "apps", "updated_at", "updated_by"];

export function registerSecrets(program: Command): void {
  const secrets = program
    .command("secrets")
    .description("manage this tenant's secrets for adapters (values are never shown)");

  secrets
    .command("set")
    .description(
      "create or replace a secret; the value is read from stdin or --from-file, never the command line",
    )
    .argument("<name>", "the name adapter declarations reference, e.g. LAB_TOKEN")
    .option("--from-file <file>", "read the value from this file instead of stdin")
    .option("--app <app...>", "only agents of these apps may receive it")
    .action(async (name: string, opts: { fromFile?: string; app?: string[] }, command: Command) => {
      const secretName = parse(TenantSecretName, name, "secret name");
      const value = opts.fromFile ? readValueFile(opts.fromFile) : await readStdin();
      const body = parse(
        SecretSetRequest,
        { value, ...(opts.app ? { apps: opts.app } : {}) },
        "secret",
      );
      const stored = await centralClient(command).request(
        "PUT",
        `${PATHS.secrets}/${secretName}`,
        SecretInfo,
        body,
      );
      show([stored], COLUMNS, command);
    });

  secrets
    .command("list")
    .description("list secrets: names, apps, when they changed (never values)")
    .action(async (_opts: unknown, command: Command) => {
      const { secrets: list } = await centralClient(command).request(
        "GET",
        PATHS.secrets,
        SecretList,
      );
      show(list, COLUMNS, command);
    });

  secrets
    .command("rm")
    .description("remove a secret; runs claimed from now on no longer receive it")
    .argument("<name>", "secret name")
    .action(async (name: string, _opts: unknown, command: Command) => {
      const secretName = parse(TenantSecretName, name, "secret name");
      const removed = await centralClient(command).request(
        "DELETE",
        `${PATHS.secrets}/${secretName}`,
        SecretInfo,
      );
      show([removed], ["name", "apps"], command);
    });
}

/** A table says "any" for an unrestricted secret; --json keeps the API's shape. */
function show(infos: SecretInfo[], columns: string[], command: Command): void {
  const json = globals(command).json;
  printRows(
    json ? infos : infos.map((i) => ({ ...i, apps: i.apps === null ? "any" : i.apps.join(",") })),
    columns,
    json,
  );
}

/** One trailing newline (what `echo` and editors add) is not part of the value. */
const trimmed = (text: string) => text.replace(/\r?\n$/, "");

function readValueFile(file: string): string {
  try {
    return trimmed(readFileSync(file, "utf8"));
  } catch (error) {
    throw new CliError(
      `${file}: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.usage,
    );
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new CliError(
      "pipe the secret's value on stdin (e.g. `auraison secrets set NAME < file`) or use --from-file",
      EXIT.usage,
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return trimmed(Buffer.concat(chunks).toString("utf8"));
}
