/**
 * A validation thread (see validate-pool.ts): checks a slice of log entries against the contract
 * and returns only what does not go to DuckDB as written (the refused entries, and the text of
 * those the contract's parser rewrote), so no event's text travels back.
 */
import { parentPort } from "node:worker_threads";
import type { RawRecord } from "../sources/source";
import { checkRecord, type QuarantinedRecord } from "./validate";
import type { ValidateRequest, ValidateResponse } from "./validate-pool";

parentPort?.on("message", (request: ValidateRequest) => {
  let response: ValidateResponse;
  try {
    const quarantined: QuarantinedRecord[] = [];
    const excluded: number[] = [];
    const rewritten: [number, string][] = [];
    let longest = 0;
    // Texts come without positions: the pool names those of the quarantined (by `excluded`).
    const records =
      "texts" in request
        ? request.texts.map((text): RawRecord => ({ position: "", text }))
        : request.records;
    records.forEach((record, i) => {
      const checked = checkRecord(record);
      if (!checked.ok) {
        quarantined.push(checked.quarantined);
        excluded.push(i);
        return;
      }
      const line = checked.value.line;
      if (!("text" in record) || line !== record.text) rewritten.push([i, line]);
      if (line.length > longest) longest = line.length;
    });
    response = { id: request.id, ok: true, quarantined, excluded, rewritten, longest };
  } catch (error) {
    response = { id: request.id, ok: false, error: String((error as Error)?.stack ?? error) };
  }
  parentPort!.postMessage(response);
});
