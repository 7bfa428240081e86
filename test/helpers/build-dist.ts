import { builtEntry } from "../../bin/build.js";

/**
 * vitest globalSetup: bring dist/ up to date once before the tests that spawn `auraison`, so they
 * run the current sources without each child process rebuilding (bin/build.js).
 */
export default async function setup(): Promise<void> {
  await builtEntry("cli");
}
