export { readDomain, readProblem } from "./read";
export { PddlError, type Pos, readSExpr, type SAtom, type SExpr, type SList } from "./sexpr";
export * from "./syntax";
export { writeDomain, writeProblem } from "./write";
