import { resolve } from "node:path";
import type { Command } from "commander";
import { CliError, EXIT } from "../errors";
import { defaultAppDir, runLocalStack } from "../local-stack/stack";
import { stateDir } from "../settings";

export function registerDev(program: Command): void {
  program
    .command("dev")
    .description(
      "run the whole platform on this machine: central (wrangler dev), a tenant, an edge agent for the sample app, and memory",
    )
    .option("--port <port>", "central's port on 127.0.0.1", "8787")
    .option("--app <name>", "the app the edge agent serves", "lab-notes")
    .option("--app-dir <dir>", "the app folder (default: examples/apps/lab-notes)")
    .option("--no-edge", "do not start an edge agent")
    .option("--no-memory", "do not start the memory projector")
    .option("--settings <file>", "tenant settings (TenantSettings JSON) to apply at start")
    .option(
      "--gateway-config <file>",
      "a gateway config (as for `auraison gateway apply`) to apply at start; the edge then uses auraison/auto",
    )
    .action(
      async (opts: {
        port: string;
        app: string;
        appDir?: string;
        edge: boolean;
        memory: boolean;
        settings?: string;
        gatewayConfig?: string;
      }) => {
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port <= 0 || port > 65535)
          throw new CliError(`--port: '${opts.port}' is not a port`, EXIT.usage);
        process.exitCode = await runLocalStack({
          home: stateDir(),
          port,
          app: opts.app,
          appDir: opts.appDir ? resolve(opts.appDir) : defaultAppDir(),
          edge: opts.edge,
          memory: opts.memory,
          ...(opts.settings ? { settingsFile: resolve(opts.settings) } : {}),
          ...(opts.gatewayConfig ? { gatewayFile: resolve(opts.gatewayConfig) } : {}),
        });
      },
    );
}
