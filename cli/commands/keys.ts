import type { Command } from "commander";
import { KeyCreated, KeyCreateRequest, KeyInfo, KeyList, parse } from "../../contract";
import { centralClient, globals } from "../context";
import { printRows } from "../output";

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("manage this tenant's API keys (admin)");

  keys
    .command("create")
    .description("create a key; its secret is shown once")
    .requiredOption("--role <role>", "admin | operator | viewer | agent")
    .requiredOption("--name <name>", "what the key is for")
    .option("--app <app>", "agent keys: only agents of this app may use it")
    .action(async (opts: { role: string; name: string; app?: string }, command: Command) => {
      const body = parse(
        KeyCreateRequest,
        { role: opts.role, name: opts.name, ...(opts.app === undefined ? {} : { app: opts.app }) },
        "key request",
      );
      const created = await centralClient(command).request("POST", "/v1/keys", KeyCreated, body);
      if (globals(command).json) printRows([created], [], true);
      else
        process.stdout.write(
          `created ${created.role} key ${created.id}\n${created.key}\n(store it now: it is not shown again)\n`,
        );
    });

  keys
    .command("list")
    .description("list keys (never their secrets)")
    .action(async (_opts: unknown, command: Command) => {
      const { keys: list } = await centralClient(command).request("GET", "/v1/keys", KeyList);
      printRows(
        list,
        ["id", "role", "name", "app", "prefix", "created_at", "last_used_at", "revoked_at"],
        globals(command).json,
      );
    });

  keys
    .command("revoke")
    .description("revoke a key; requests with it fail from now on")
    .argument("<id>", "key id")
    .action(async (id: string, _opts: unknown, command: Command) => {
      const key = await centralClient(command).request(
        "DELETE",
        `/v1/keys/${encodeURIComponent(id)}`,
        KeyInfo,
      );
      printRows([key], ["id", "role", "name", "revoked_at"], globals(command).json);
    });
}
