// The architecture as rules: which part may import which (README, "Where things live").
// test/architecture.test.ts runs them; `npx depcruise contract central edge lakehouse cli` too.
const ours = "^(contract|central|edge|lakehouse|cli)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "An import cycle makes load order matter and hides which module owns what.",
      from: { path: ours },
      to: { circular: true },
    },
    {
      name: "contract-imports-nothing-of-ours",
      severity: "error",
      comment: "contract/ is what both runtimes speak; it depends on no runtime.",
      from: { path: "^contract/" },
      to: { path: "^(central|edge|lakehouse|cli)/" },
    },
    // central/ runs in a Worker, edge/ on lab hosts, lakehouse/ where memory is queried: each
    // imports contract/ and itself, never another runtime (the CLI composes them).
    ...["central", "edge", "lakehouse"].map((runtime) => ({
      name: `${runtime}-imports-only-contract`,
      severity: "error",
      from: { path: `^${runtime}/` },
      to: {
        path: `^(${["central", "edge", "lakehouse", "cli"].filter((p) => p !== runtime).join("|")})/`,
      },
    })),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/|\\.d\\.ts$" },
    // Type-only imports count: a cycle or a wrong-way import of types is still a wrong design.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
