"""Reference solutions of known time and space class, with their generators and sizes.

Used by ``test_complexity.py`` and by ``benchmarks/complexity.py`` (which Submits each 20
times while both cores are busy). Each entry: the source, its entry point ``solve``, the
generator of its inputs, the sizes measured, and the known time and space classes.
"""

from __future__ import annotations

from typing import Any

RANDOM_LIST = "def generate(n, rng):\n    return [[rng.randint(0, 10**6) for _ in range(n)]]\n"
SORTED_LIST = (
    "def generate(n, rng):\n"
    "    xs = sorted(rng.randint(0, 10**6) for _ in range(n))\n"
    "    return [xs, rng.randint(0, 10**6)]\n"
)
SMALL_SET = "def generate(n, rng):\n    return [[rng.randint(1, 50) for _ in range(n)], 10**9]\n"

CONSTANT = """
def solve(xs):
    first = xs[0]
    last = xs[-1]
    return first + last
"""

BINARY_SEARCH = """
def solve(xs, target):
    lo, hi = 0, len(xs)
    while lo < hi:
        mid = (lo + hi) // 2
        if xs[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo
"""

TWO_SUM = """
def solve(xs):
    seen = {}
    for i, x in enumerate(xs):
        if -x in seen:  # never: all numbers are positive, so every one is looked at
            return [seen[-x], i]
        seen[x] = i
    return []
"""

MERGE_SORT = """
def solve(xs):
    if len(xs) <= 1:
        return xs
    mid = len(xs) // 2
    left = solve(xs[:mid])
    right = solve(xs[mid:])
    out = []
    i = j = 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out.extend(left[i:])
    out.extend(right[j:])
    return out
"""

INVERSIONS = """
def solve(xs):
    count = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            if xs[i] > xs[j]:
                count += 1
    return count
"""

SUBSET_SUMS = """
def solve(xs, target):
    def count(i, total):
        if i == len(xs):
            return 1 if total == target else 0
        return count(i + 1, total + xs[i]) + count(i + 1, total)
    return count(0, 0)
"""

LINEAR_SIZES = [256, 512, 1024, 2048, 4096, 8192]

REFERENCES: dict[str, dict[str, Any]] = {
    "O(1)": {
        "source": CONSTANT,
        "generator": RANDOM_LIST,
        "sizes": LINEAR_SIZES,
        "space": "O(1)",
    },
    "O(log n)": {
        "source": BINARY_SEARCH,
        "generator": SORTED_LIST,
        "sizes": [256, 1024, 4096, 16384, 65536],
        "space": "O(1)",
    },
    "O(n)": {"source": TWO_SUM, "generator": RANDOM_LIST, "sizes": LINEAR_SIZES, "space": "O(n)"},
    "O(n log n)": {
        "source": MERGE_SORT,
        "generator": RANDOM_LIST,
        "sizes": LINEAR_SIZES,
        "space": "O(n)",
    },
    "O(n^2)": {
        "source": INVERSIONS,
        "generator": RANDOM_LIST,
        "sizes": [50, 100, 200, 400, 800],
        "space": "O(1)",
    },
    "O(2^n)": {
        "source": SUBSET_SUMS,
        "generator": SMALL_SET,
        "sizes": [8, 10, 12, 14, 16],
        "space": "O(n)",  # the recursion is n calls deep
    },
}
