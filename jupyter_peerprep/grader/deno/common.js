// Shared by case.js and timed.js: runs INSIDE the grader sandbox, in Deno with no --allow-*
// flags. The harness (harness.py, deno_child.py) writes these files, input.json and the
// solution into the run's private /work before it starts Deno; nothing here decides a verdict.

export function isMemoryError(e) {
  return e instanceof RangeError && /allocation failed|out of memory/i.test(String(e.message));
}

export function describe(e) {
  const text = e && e.stack ? String(e.stack) : String(e);
  return text.slice(-4000);
}

export function writeAll(file, text) {
  const data = new TextEncoder().encode(text);
  let offset = 0;
  while (offset < data.length) offset += file.writeSync(data.subarray(offset));
}

// The entry point, from the solution module (the harness appended an export naming it).
export async function loadEntry(entry) {
  const mod = await import("./solution.__SUFFIX__");
  const fn = mod.__peerprep_entry;
  if (typeof fn !== "function") {
    throw new ReferenceError(`the solution defines no function named '${entry}'`);
  }
  return fn;
}
