// One test case in Deno: load the solution, call the entry point, report the raw value.
// The record goes to stdout after a marker carrying this case's nonce; the harness takes the
// last such record (a solution that forges one can only claim a value it could return).
import input from "./input.json" with { type: "json" };
import { describe, isMemoryError, loadEntry, writeAll } from "./common.js";

const MARK = "\n\u001ePEERPREP-" + input.nonce + "\n";

function report(record) {
  let text;
  try {
    text = JSON.stringify(record);
  } catch (e) {
    text = JSON.stringify({ status: "error", error: "could not encode result: " + e });
  }
  writeAll(Deno.stdout, MARK + text);
  Deno.exit(0);
}

function kindOf(value) {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value.constructor && value.constructor.name) || "object";
}

// The return value as JSON, as the Python harness does: undefined is null, a Set is a list in
// a canonical order, a Map with string keys an object; anything else that is not JSON throws.
function toJson(value, depth) {
  if (depth > 200) throw new TypeError("return value nested more than 200 levels deep");
  if (value === undefined || value === null) return null;
  const type = typeof value;
  if (type === "boolean" || type === "string") return value;
  if (type === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`${value} is not a JSON value`);
    return value;
  }
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return Array.from(value, (v) => toJson(v, depth + 1));
  }
  if (value instanceof Set) {
    const items = Array.from(value, (v) => toJson(v, depth + 1));
    return items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  const plain = type === "object" &&
    (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);
  if (value instanceof Map || plain) {
    const out = {};
    const entries = value instanceof Map ? value.entries() : Object.entries(value);
    for (const [k, v] of entries) {
      if (typeof k !== "string") throw new TypeError(`map key ${String(k)} is not a string`);
      out[k] = toJson(v, depth + 1);
    }
    return out;
  }
  throw new TypeError(`a ${kindOf(value)} is not a JSON value`);
}

let fn;
try {
  fn = await loadEntry(input.entry);
} catch (e) {
  report(isMemoryError(e) ? { status: "memory" } : { status: "load_error", error: describe(e) });
}
try {
  const start = performance.now();
  let got = fn(...input.args);
  if (got instanceof Promise) got = await got;
  const callS = (performance.now() - start) / 1000;
  let value;
  try {
    value = toJson(got, 0);
  } catch (e) {
    let shown;
    try {
      shown = Deno.inspect(got, { depth: 4 }).slice(0, 2000);
    } catch {
      shown = kindOf(got);
    }
    report({ status: "ok", not_json: String(e.message), got_repr: shown });
  }
  report({ status: "ok", got: value, call_s: callS });
} catch (e) {
  report(isMemoryError(e) ? { status: "memory" } : { status: "error", error: describe(e) });
}
