import type { SessionManager } from "@earendil-works/pi-coding-agent";
import { redact } from "../../contract";
import { privateFile } from "../state-files";

/** pi's SessionManager methods that write an entry from their arguments. */
const WRITERS = [
  "appendMessage",
  "appendThinkingLevelChange",
  "appendModelChange",
  "appendCompaction",
  "appendCustomEntry",
  "appendSessionInfo",
  "appendCustomMessageEntry",
  "appendContextEdit",
  "appendUsage",
  "appendLabelChange",
  "branchWithSummary",
] as const;

/**
 * A run's pi session, made safe to keep on disk: every entry pi appends is redacted with the
 * platform's rules before pi stores or writes it (the live run keeps what it saw; a resumed or
 * forked run sees the redacted transcript), and the session's files are 0600. pi writes the file
 * itself, so the entries are redacted on their way in, through pi's public append methods.
 */
export function privateSession(manager: SessionManager): SessionManager {
  const target = manager as unknown as Record<string, (...args: unknown[]) => unknown>;
  const secure = () => {
    const file = manager.getSessionFile();
    if (file) privateFile(file);
  };
  for (const name of WRITERS) {
    const original = target[name];
    if (typeof original !== "function") continue;
    target[name] = (...args: unknown[]) => {
      const result = original.apply(
        manager,
        args.map((a) => redact(a)),
      );
      secure();
      return result;
    };
  }
  const branched = manager.createBranchedSession.bind(manager);
  manager.createBranchedSession = (leafId: string) => {
    const file = branched(leafId);
    if (file) privateFile(file);
    return file;
  };
  return manager;
}
