/**
 * A validation thread (see validate-pool.ts): checks a slice of log entries against the contract
 * and returns the valid ones already as the stage's text, so the sync's own thread only reads
 * and coordinates.
 */
import { parentPort } from "node:worker_threads";
import { stagedText } from "./stage";
import { checkRecord, type QuarantinedRecord } from "./validate";
import type { ValidateRequest, ValidateResponse } from "./validate-pool";

parentPort?.on("message", (request: ValidateRequest) => {
  let response: ValidateResponse;
  try {
    const lines: string[] = [];
    const ords: number[] = [];
    const quarantined: QuarantinedRecord[] = [];
    request.records.forEach((record, i) => {
      const checked = checkRecord(record);
      if (!checked.ok) quarantined.push(checked.quarantined);
      else {
        lines.push(checked.value.line);
        ords.push(request.first + i);
      }
    });
    response = { id: request.id, ok: true, staged: stagedText(lines, ords), quarantined };
  } catch (error) {
    response = { id: request.id, ok: false, error: String((error as Error)?.stack ?? error) };
  }
  parentPort!.postMessage(response);
});
