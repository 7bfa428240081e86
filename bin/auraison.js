#!/usr/bin/env node
// @ts-check
// The CLI runs built JavaScript (dist/, see bin/build.js), rebuilt first when a source changed.
// Node's compile cache keeps V8's compiled code between runs, which is most of start-up.
import { readFileSync } from "node:fs";
import module from "node:module";

const { engines } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const needed = engines.node.replace(/^>=/, "");
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const [neededMajor, neededMinor] = needed.split(".").map(Number);
if (major < neededMajor || (major === neededMajor && minor < neededMinor)) {
  process.stderr.write(
    `auraison: Node ${process.versions.node} is too old; it needs Node >= ${needed} (24 LTS recommended).\n` +
      "  On a host with an older Node, install one from npm next to the checkout:\n" +
      "    npm install --prefix .node --no-save node@24\n" +
      '    export PATH="$PWD/.node/node_modules/.bin:$PATH"\n',
  );
  process.exit(1);
}
module.enableCompileCache();
const { builtEntry } = await import("./build.js");
const { run } = await import(await builtEntry("cli"));
process.exitCode = await run(process.argv.slice(2));
