/**
 * A validation thread (see validate-pool.ts): checks a slice of log entries against the contract
 * and returns only what does not go to DuckDB as written (the refused entries, and the text of
 * those the contract's parser rewrote), so no event's text travels back.
 */
import { isUtf8 } from "node:buffer";
import { parentPort } from "node:worker_threads";
import { lineRecord, scanLines } from "../sources/lines";
import type { RawRecord } from "../sources/source";
import { type Checked, checkRecord, type QuarantinedRecord } from "./validate";
import type { ValidateRequest, ValidateResponse } from "./validate-pool";

parentPort?.on("message", (request: ValidateRequest) => {
  let response: ValidateResponse;
  try {
    const quarantined: QuarantinedRecord[] = [];
    const excluded: number[] = [];
    const rewritten: [number, string][] = [];
    let longest = 0;
    const check = (record: RawRecord, i: number, checked: Checked) => {
      if (!checked.ok) {
        quarantined.push(checked.quarantined);
        excluded.push(i);
        return;
      }
      const line = checked.value.line;
      if (!("text" in record) || line !== record.text) rewritten.push([i, line]);
      if (line.length > longest) longest = line.length;
    };
    let records: number;
    if ("lines" in request) {
      const { file, bytes, firstLine } = request.lines;
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const scan = scanLines(buffer, 0, firstLine, Number.POSITIVE_INFINITY);
      records = scan.starts.length;
      // One pass over the slice finds nearly always that all of its lines are UTF-8.
      const utf8 = isUtf8(buffer);
      for (let i = 0; i < records; i++) {
        const before = quarantined.length;
        const record = lineRecord(buffer, scan.starts[i]!, scan.ends[i]!, "", utf8);
        check(record, i, checkRecord(record));
        if (quarantined.length > before)
          quarantined[before]!.position = `${file}:${scan.numbers[i]}`;
      }
    } else {
      // Texts come without positions: the pool names those of the quarantined (by `excluded`).
      const all =
        "texts" in request
          ? request.texts.map((text): RawRecord => ({ position: "", text }))
          : request.records;
      for (const [i, record] of all.entries()) check(record, i, checkRecord(record));
      records = all.length;
    }
    response = {
      id: request.id,
      ok: true,
      quarantined,
      excluded,
      rewritten,
      longest,
      records,
    };
  } catch (error) {
    response = { id: request.id, ok: false, error: String((error as Error)?.stack ?? error) };
  }
  parentPort!.postMessage(response);
});
