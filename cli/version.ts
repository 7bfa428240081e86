import { readFileSync } from "node:fs";
import { CONTRACT_VERSION } from "../contract";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

export const VERSION = `${pkg.version} (contract ${CONTRACT_VERSION})`;
export const PACKAGE_VERSION = pkg.version;
