/**
 * Writes contract/schema/<Name>.json from the contract's zod definitions.
 * `--check` writes nothing and exits 1 when a committed file is stale or missing.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jsonSchemaOf, PUBLISHED_SCHEMAS, type PublishedSchemaName } from "../contract";

const dir = fileURLToPath(new URL("../contract/schema/", import.meta.url));
const check = process.argv.includes("--check");

const expected = new Map<string, string>();
for (const name of Object.keys(PUBLISHED_SCHEMAS) as PublishedSchemaName[]) {
  expected.set(`${name}.json`, `${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`);
}

await mkdir(dir, { recursive: true });
const present = (await readdir(dir)).filter((f) => f.endsWith(".json"));
const problems: string[] = [];

for (const [file, text] of expected) {
  const current = await readFile(join(dir, file), "utf8").catch(() => null);
  if (current === text) continue;
  if (check) problems.push(current === null ? `missing ${file}` : `stale ${file}`);
  else await writeFile(join(dir, file), text);
}
for (const file of present) {
  if (expected.has(file)) continue;
  if (check) problems.push(`unexpected ${file}`);
  else await rm(join(dir, file));
}

if (problems.length) {
  console.error(`contract/schema is out of date (${problems.join(", ")}); run: npm run schemas`);
  process.exit(1);
}
console.log(
  check
    ? `contract/schema: ${expected.size} schemas up to date`
    : `wrote ${expected.size} schemas to contract/schema/`,
);
