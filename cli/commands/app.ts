import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { appScaffold } from "../app-scaffold";
import { checkedApp } from "../edge-options";
import { CliError, EXIT } from "../errors";
import { shownPath } from "../shown-path";

export function registerApp(program: Command): void {
  const app = program.command("app").description("application folders for edge agents");

  app
    .command("init")
    .description(
      "create a working app folder: app.json, a skill with a script, and a scripted model for offline runs",
    )
    .argument("<dir>", "the folder to create (must not exist, or be empty)")
    .option("--name <app>", "the app's name (default: the folder's name)")
    .action((dir: string, opts: { name?: string }) => {
      const root = resolve(dir);
      const name = checkedApp(opts.name ?? basename(root));
      if (existsSync(root) && readdirSync(root).length > 0)
        throw new CliError(`${dir} exists and is not empty; pick a new folder`, EXIT.usage);
      const files = appScaffold(name);
      for (const [path, file] of Object.entries(files)) {
        const target = join(root, path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, file.text);
        if (file.mode) chmodSync(target, file.mode);
      }
      const shown = shownPath(root);
      process.stdout.write(
        [
          `created app ${name} in ${shown}:`,
          ...Object.keys(files).map((path) => `  ${path}`),
          "",
          "Run it on the local stack (`auraison dev` in another terminal):",
          `  auraison edge start --app-dir ${shown}`,
          `  auraison intent submit --app ${name} "take an inventory" --wait`,
          "",
        ].join("\n"),
      );
    });
}
