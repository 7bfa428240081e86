import type { Migration } from "./migration";

/**
 * A directory source's cursor keeps what its file started with (see DirectorySource), so a new
 * file under a name already read is read from its start, not from the old file's offset. Cursors
 * stored before have none and take their file's at their next read.
 */
export const cursorFingerprints: Migration = {
  version: 5,
  name: "cursor fingerprints",
  statements: ["ALTER TABLE memory.sync_cursors ADD COLUMN fingerprint VARCHAR"],
};
