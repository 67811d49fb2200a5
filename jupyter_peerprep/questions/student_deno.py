"""The public-tests cell of a JavaScript/TypeScript student notebook (the Deno kernel).

The same job as ``student.LOCAL_CHECK`` for Python: run the public cases on the function the
starter cell defined and print PASS/FAIL per case, with the grader's comparison rules
(``exact``, ``unordered``, ``float:<tol>``; ``custom`` is left to the service). Everything is
inside a block, so running the cell again declares nothing twice.
"""

from __future__ import annotations

import json
from typing import Any

# Deno's Jupyter kernel speaks TypeScript, a superset of JavaScript: one kernel serves both.
DENO_KERNELSPEC = {
    "name": "peerprep-deno",
    "display_name": "Deno (PeerPrep, limited)",
    "language": "typescript",
}

LOCAL_CHECK_JS = """{
  const plain = (v: any): any =>
    v instanceof Set ? [...v].map(plain) : v instanceof Map ? Object.fromEntries(
      [...v].map(([k, x]) => [k, plain(x)])) : Array.isArray(v) ? v.map(plain) :
    v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) =>
      [k, plain(x)])) : v === undefined ? null : v;
  const canon = (v: any): string => JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(
      Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x);
  const close = (a: any, b: any, tol: number): boolean =>
    typeof a === "number" && typeof b === "number" ? Math.abs(a - b) <= tol * Math.max(1,
      Math.abs(a)) : Array.isArray(a) && Array.isArray(b) ? a.length === b.length &&
      a.every((x, i) => close(x, b[i], tol)) : canon(a) === canon(b);
  const same = (expected: any, got: any): boolean => {
    got = plain(got);
    if (CHECKER === "unordered" && Array.isArray(expected) && Array.isArray(got)) {
      return canon(expected.map(canon).sort()) === canon(got.map(canon).sort());
    }
    if (CHECKER.startsWith("float:")) return close(expected, got, Number(CHECKER.slice(6)));
    return canon(expected) === canon(got);
  };
  for (const c of PUBLIC_TESTS) {
    let got;
    try {
      got = await {entry}(...structuredClone(c.args));
    } catch (e) {
      console.log(`ERROR  ${c.name}: ${e}`);
      continue;
    }
    if (CHECKER === "custom") {
      console.log(`?      ${c.name}: got ${JSON.stringify(plain(got))} (checked on Run)`);
    } else if (same(c.expected, got)) {
      console.log(`PASS   ${c.name}`);
    } else {
      console.log(`FAIL   ${c.name}: expected ${JSON.stringify(c.expected)}, got ${
        JSON.stringify(plain(got))}`);
    }
  }
}
"""


def deno_tests_source(view: dict[str, Any]) -> str:
    """The public-tests cell for a JavaScript/TypeScript room."""
    public = json.dumps(view["public_tests"], indent=1)
    return (
        "// Public tests: run this cell after the one above to check your function here.\n"
        "{\n"
        f"const PUBLIC_TESTS: any[] = {public};\n"
        f"const CHECKER: string = {json.dumps(view['checker'])};\n"
        + LOCAL_CHECK_JS.replace("{entry}", view["entry_point"])
        + "}\n"
    )
