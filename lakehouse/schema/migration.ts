/** One step of the lake's schema history. Applied steps are never edited; changes are new steps. */
export interface Migration {
  version: number;
  name: string;
  /** SQL against the lake attached as `memory`. */
  statements: readonly string[];
}
