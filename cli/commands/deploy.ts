import type { Command } from "commander";
import { CliError } from "../errors";
import { spawnWrangler } from "../wrangler";

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description(
      "deploy central to Cloudflare with wrangler (needs CLOUDFLARE_API_TOKEN or `wrangler login`)",
    )
    .option("--dry-run", "build and check the bundle without uploading")
    .option("--outdir <dir>", "write the built bundle here")
    .option("--env <name>", "wrangler environment from wrangler.toml")
    .action(async (opts: { dryRun?: boolean; outdir?: string; env?: string }) => {
      const args = ["deploy"];
      if (opts.dryRun) args.push("--dry-run");
      if (opts.outdir) args.push("--outdir", opts.outdir);
      if (opts.env) args.push("--env", opts.env);
      const code = await new Promise<number>((resolve) => {
        spawnWrangler(args).on("exit", (c) => resolve(c ?? 1));
      });
      if (code !== 0) throw new CliError(`wrangler deploy exited with ${code}`, code);
    });
}
