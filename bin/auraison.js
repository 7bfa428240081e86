#!/usr/bin/env node
// The CLI runs built JavaScript (dist/, see bin/build.js), rebuilt first when a source changed.
// Node's compile cache keeps V8's compiled code between runs, which is most of start-up.
import module from "node:module";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `auraison: Node ${process.versions.node} is too old; it needs Node >= 22.19 (24 LTS recommended).\n` +
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
