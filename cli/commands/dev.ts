import { join } from "node:path";
import type { Command } from "commander";
import { CliError, EXIT } from "../errors";
import { stateDir } from "../settings";
import { spawnWrangler } from "../wrangler";

export function registerDev(program: Command): void {
  program
    .command("dev")
    .description(
      "run the platform locally: central under wrangler dev with local Durable Object and R2 state",
    )
    .option("--port <port>", "central's port on 127.0.0.1", "8787")
    .action(async (opts: { port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port <= 0 || port > 65535)
        throw new CliError(`--port: '${opts.port}' is not a port`, EXIT.usage);
      const persist = join(stateDir(), "central");
      const child = spawnWrangler([
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--persist-to",
        persist,
      ]);
      const stop = () => child.kill("SIGINT");
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 0)));
      if (code !== 0 && code !== 130) throw new CliError(`wrangler dev exited with ${code}`, code);
    });
}
