// A module hook (node:module register) that loads zenoh-ts's WebAssembly module the way
// wasm-bindgen's "bundler" output expects: as an ES module whose imports and exports are the
// wasm's. Node does this itself only with --experimental-wasm-modules (unflagged in later
// releases); this hook gives the same on every supported Node, for zenoh-ts's files only.
import { readFile } from "node:fs/promises";

export async function load(url, context, nextLoad) {
  if (!url.endsWith(".wasm") || !url.includes("/@eclipse-zenoh/zenoh-ts/"))
    return nextLoad(url, context);
  const module = await WebAssembly.compile(await readFile(new URL(url)));
  const imports = [...new Set(WebAssembly.Module.imports(module).map((i) => i.module))];
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  const source = [
    'import { readFileSync } from "node:fs";',
    ...imports.map((m, i) => `import * as i${i} from ${JSON.stringify(m)};`),
    `const module = new WebAssembly.Module(readFileSync(new URL(${JSON.stringify(url)})));`,
    `const instance = new WebAssembly.Instance(module, { ${imports
      .map((m, i) => `${JSON.stringify(m)}: i${i}`)
      .join(", ")} });`,
    ...exports.map(
      (name, i) =>
        `const e${i} = instance.exports[${JSON.stringify(name)}]; export { e${i} as ${JSON.stringify(name)} };`,
    ),
  ].join("\n");
  return { format: "module", source, shortCircuit: true };
}
