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
let cli;
try {
  cli = await builtEntry("cli");
} catch (error) {
  process.stderr.write(
    `auraison: a source changed and dist/ could not be rebuilt: ${error instanceof Error ? error.message : error}\n` +
      "  Fix the source, or run `npm run build` as the checkout's owner.\n",
  );
  process.exit(1);
}
const { run } = await import(cli);
process.exitCode = await run(process.argv.slice(2));
