// The timed child in Deno (see timing.py): stdin carries the harness's commands, stdout the
// acknowledgements. Per "g" one batch of calls, each on a fresh copy of the input made before
// the batch; "c" and 4 bytes set the next batch's size. Nothing written here is a time.
import input from "./input.json" with { type: "json" };
import { describe, isMemoryError, loadEntry, writeAll } from "./common.js";

const EXIT_ERROR = 3;
const EXIT_MEMORY = 4;

function fail(e) {
  try {
    writeAll(Deno.stderr, describe(e));
  } catch {
    // nothing more to say
  }
  Deno.exit(isMemoryError(e) ? EXIT_MEMORY : EXIT_ERROR);
}

function readExact(buffer) {
  let offset = 0;
  while (offset < buffer.length) {
    const n = Deno.stdin.readSync(buffer.subarray(offset));
    if (!n) return false;
    offset += n;
  }
  return true;
}

let fn = () => null;
if (!input.trusted) {
  try {
    fn = await loadEntry(input.entry);
  } catch (e) {
    fail(e);
  }
}
const ready = new TextEncoder().encode("r");
const done = new TextEncoder().encode("d");
const one = new Uint8Array(1);
const command = new Uint8Array(5);
let batch = 1;
try {
  while (true) {
    const copies = [];
    for (let i = 0; i < batch; i++) copies.push(structuredClone(input.args));
    Deno.stdout.writeSync(ready);
    if (!readExact(one) || one[0] !== 0x67) Deno.exit(0);
    for (const fresh of copies) fn(...fresh);
    Deno.stdout.writeSync(done);
    if (!readExact(command) || command[0] !== 0x63) Deno.exit(0);
    batch = Math.max(1, new DataView(command.buffer).getUint32(1));
  }
} catch (e) {
  fail(e);
}
