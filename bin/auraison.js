#!/usr/bin/env node
// The CLI runs from its TypeScript sources; tsx compiles them on load (and caches the result).
import { register } from "tsx/esm/api";

register();
const { run } = await import("../cli/main.ts");
process.exitCode = await run(process.argv.slice(2));
