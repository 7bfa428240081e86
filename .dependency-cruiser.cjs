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
    {
      name: "central-imports-only-contract",
      severity: "error",
      comment: "central/ runs in a Worker: it imports contract/ and itself, never another runtime.",
      from: { path: "^central/" },
      to: { path: "^(edge|lakehouse|cli)/" },
    },
    {
      name: "edge-imports-only-contract",
      severity: "error",
      from: { path: "^edge/" },
      to: { path: "^(central|lakehouse|cli)/" },
    },
    {
      name: "lakehouse-imports-only-contract",
      severity: "error",
      from: { path: "^lakehouse/" },
      to: { path: "^(central|edge|cli)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/|\\.d\\.ts$" },
    // Type-only imports count: a cycle or a wrong-way import of types is still a wrong design.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
