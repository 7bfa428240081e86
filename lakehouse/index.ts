export * from "./duckdb";
export * from "./extensions";
