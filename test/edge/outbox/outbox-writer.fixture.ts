// Appends events as fast as it can and prints each position once it is durable; the test kills it.
import { uuidv7 } from "../../../contract";
import { Outbox } from "../../../edge/outbox/outbox";
import { messageEvent } from "../helpers/events";

const outbox = await Outbox.open(process.argv[2]!, { segmentBytes: 4_096 });
const run = uuidv7();
let seq = 0;
for (;;) {
  const batch = Array.from({ length: 8 }, () => outbox.append(messageEvent(run, seq++)));
  for (const position of await Promise.all(batch)) process.stdout.write(`${position}\n`);
}
