import { readFileSync } from "node:fs";
import { VERSION as PI_VERSION } from "@earendil-works/pi-coding-agent";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** This agent's version, and the harness it runs on, as registered with central. */
export const AGENT_VERSION = pkg.version;
export const HARNESS = { name: "pi", version: PI_VERSION } as const;
