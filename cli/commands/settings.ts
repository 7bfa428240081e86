import type { Command } from "commander";
import { PATHS, parse, TenantSettings } from "../../contract";
import { centralClient, globals } from "../context";
import { readJsonFile } from "../json-file";
import { printValue } from "../output";

/** A TenantSettings JSON file, checked against the contract before anything is sent. */
export function readSettingsFile(file: string): TenantSettings {
  return parse(TenantSettings, readJsonFile(file), file);
}

export function registerSettings(program: Command): void {
  const settings = program
    .command("settings")
    .description("the tenant's timings, retry policy and archive settings (admin)");

  settings
    .command("show")
    .description("the settings in force (TenantSettings JSON, defaults filled in)")
    .action(async (_opts: unknown, command: Command) => {
      printValue(await centralClient(command).request("GET", PATHS.settings, TenantSettings), true);
    });

  settings
    .command("apply")
    .description("replace the settings with a TenantSettings JSON file (omitted fields: defaults)")
    .argument("<file>", "TenantSettings JSON")
    .action(async (file: string, _opts: unknown, command: Command) => {
      const applied = await centralClient(command).request(
        "PUT",
        PATHS.settings,
        TenantSettings,
        readSettingsFile(file),
      );
      if (globals(command).json) printValue(applied, true);
      else process.stdout.write(`applied ${file}:\n${JSON.stringify(applied, null, 2)}\n`);
    });
}
