import type { Command } from "commander";
import { CentralClient } from "../contract";
import { resolveConnection } from "./settings";

export interface GlobalOptions {
  json: boolean;
  central?: string;
  key?: string;
}

export function globals(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals<{ json?: boolean; central?: string; key?: string }>();
  return { json: opts.json === true, central: opts.central, key: opts.key };
}

/** A client for the central this command talks to, resolved from flags, env or local state. */
export function centralClient(command: Command): CentralClient {
  const { central, key } = globals(command);
  const connection = resolveConnection({ central, key });
  return new CentralClient({ url: connection.url, key: connection.key });
}
