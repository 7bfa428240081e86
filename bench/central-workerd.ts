import { startCentralDev } from "../test/helpers/central-dev";
import { startCentralWorkerd } from "../test/helpers/central-workerd";
import { platformSecrets } from "../test/helpers/platform-secrets";

/**
 * Central for a benchmark: under `wrangler dev` (as `npm start` runs it), or, when the command
 * line has `--direct`, in workerd without the dev proxy. `where` says which, for the results.
 */
export async function startBenchCentral(): Promise<{
  url: string;
  bootstrapKey: string;
  direct: boolean;
  where: string;
  stop(): Promise<void>;
}> {
  if (!process.argv.includes("--direct")) {
    const central = await startCentralDev({ logLevel: "warn" });
    return {
      url: central.url,
      bootstrapKey: central.bootstrapKey,
      direct: false,
      where: "under `wrangler dev` (local workerd)",
      stop: () => central.stop(),
    };
  }
  const secrets = platformSecrets();
  const central = await startCentralWorkerd(secrets);
  return {
    ...central,
    bootstrapKey: secrets.AURAISON_BOOTSTRAP_KEY,
    direct: true,
    where:
      "in local workerd without wrangler's dev proxy (the bundle `wrangler deploy --dry-run` builds, run by wrangler's Miniflare with the Worker on a socket of its own: test/helpers/central-workerd.ts)",
  };
}
