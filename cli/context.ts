import type { Command } from "commander";
import { CentralClient } from "../contract";
import { resolveConnection } from "./settings";

export interface GlobalOptions {
  json: boolean;
  central?: string;
  key?: string;
  keyFile?: string;
}

export function globals(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals<{
    json?: boolean;
    central?: string;
    key?: string;
    keyFile?: string;
  }>();
  return { json: opts.json === true, central: opts.central, key: opts.key, keyFile: opts.keyFile };
}

/** A client for the central this command talks to, resolved from flags, env or local state. */
export function centralClient(command: Command): CentralClient {
  const connection = resolveConnection(globals(command));
  return new CentralClient({ url: connection.url, key: connection.key });
}
