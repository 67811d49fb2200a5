"""Estimating a growth class from measured (n, quantity) points.

The quantity is what grew with n: Python steps counted by a tracer, CPU seconds, or peak bytes.
Each class is a small family of curves, a sum with non-negative weights of its own term and
simpler ones (``O(n log n)`` is ``a + b n + c n log n``), fitted by least squares on the
*relative* error, so that a constant overhead or a lower-order term does not pass for growth.
The class reported is the simplest whose best curve fits within the tolerance (twice the noise
of the quantity): counted steps are exact, so the tolerance is tight there; CPU time uses the
spread between its own repeated rounds. With five or more points of a noisy quantity the point
that fits a class worst is left out of that class's error (another process's burst).

The confidence says how clearly the data pick that class: it falls when the chosen class fits
only just within the tolerance, and when a simpler class misses it only just
(``(1 - exp(-e_simpler^2 / 2 noise^2)) * exp(-e_chosen^2 / 2 noise^2)``). It is about 1 for exact
counts over a wide range of sizes, and honestly lower for a short range or a noisy clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Term = Callable[[float], float]


def _log(n: float) -> float:
    return math.log(max(n, 2.0))


ONE: Term = lambda n: 1.0  # noqa: E731
LOG: Term = _log
LIN: Term = lambda n: n  # noqa: E731
NLOG: Term = lambda n: n * _log(n)  # noqa: E731
SQUARE: Term = lambda n: n * n  # noqa: E731
CUBE: Term = lambda n: n**3  # noqa: E731

# Name -> the terms of its family, its own term last; simplest class first.
FAMILIES: dict[str, list[Term]] = {
    "O(1)": [ONE],
    "O(log n)": [ONE, LOG],
    "O(n)": [ONE, LOG, LIN],
    "O(n log n)": [ONE, LIN, NLOG],
    "O(n^2)": [ONE, LIN, SQUARE],
    "O(n^3)": [ONE, SQUARE, CUBE],
}
EXPONENTIAL = "O(2^n)"  # a + b * base^n with the base fitted (1.2 to 4): fib is O(1.618^n)
EXP_BASES = [1.2 + 0.02 * i for i in range(141)]
MODELS = [*FAMILIES, EXPONENTIAL]
MAX_EXP_N = 200

NOISE_FLOOR = 0.05  # relative noise of a CPU time measured on a quiet machine (about 5 %)
TIME_FLOOR = 1e-7  # seconds; shorter measurements are clock noise


def _solve(rows: list[list[float]], rhs: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when singular."""
    k = len(rhs)
    m = [[*row, rhs[i]] for i, row in enumerate(rows)]
    for col in range(k):
        pivot = max(range(col, k), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(k):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [a - factor * b for a, b in zip(m[r], m[col], strict=True)]
    return [m[i][k] / m[i][i] for i in range(k)]


def _relative_fit(points: list[tuple[float, float]], terms: list[Term]) -> float:
    """RMS relative error of the best non-negative combination of ``terms`` (own term kept)."""
    best = math.inf
    own = len(terms) - 1
    # Every subset holding the class's own term; the best one whose weights are all positive.
    for mask in range(1 << own):
        chosen = [t for i, t in enumerate(terms[:own]) if mask >> i & 1] + [terms[own]]
        # Each column scaled to unit length, so that the equations stay well conditioned.
        cols = [[t(n) / y for n, y in points] for t in chosen]
        cols = [[v / (math.sqrt(sum(x * x for x in c)) or 1.0) for v in c] for c in cols]
        ata = [[sum(a * b for a, b in zip(ci, cj, strict=True)) for cj in cols] for ci in cols]
        aty = [sum(ci) for ci in cols]  # the target is y / y = 1 at every point
        weights = _solve(ata, aty)
        if weights is None or any(w <= 0 for w in weights):
            continue
        residuals = [
            1.0 - sum(w * c[i] for w, c in zip(weights, cols, strict=True))
            for i in range(len(points))
        ]
        best = min(best, math.sqrt(sum(r * r for r in residuals) / len(residuals)))
    return best


def _exp_fit(points: list[tuple[float, float]]) -> float:
    if max(n for n, _ in points) > MAX_EXP_N:
        return math.inf  # an exponential program could not have been measured at such sizes
    return min(_relative_fit(points, [ONE, _power(base)]) for base in EXP_BASES)


def _power(base: float) -> Term:
    return lambda n: base**n


def _model_error(points: list[tuple[float, float]], name: str) -> float:
    if name == EXPONENTIAL:
        return _exp_fit(points)
    return _relative_fit(points, FAMILIES[name])


def fit_errors(points: list[tuple[float, float]], robust: bool = False) -> dict[str, float]:
    """Relative RMS error of every class's best curve (lower is better)."""
    errors: dict[str, float] = {}
    for name in MODELS:
        error = _model_error(points, name)
        if robust and len(points) >= 5:
            # Leave out the one point this class fits worst (robust to a single outlier).
            error = min(
                error,
                *(_model_error(points[:i] + points[i + 1 :], name) for i in range(len(points))),
            )
        errors[name] = error
    return errors


def classify(
    points: list[tuple[float, float]], noise: float, floor: float = 0.0, robust: bool = False
) -> tuple[str | None, float, dict[str, float]]:
    """(class, confidence 0..1, errors per class) of at least three distinct positive sizes.

    ``noise`` is the relative noise of the quantity; ``floor`` is added to every value (a
    quantity's resolution, so that a few bytes or nanoseconds of jitter do not look like
    growth)."""
    sizes = {n for n, _ in points}
    if len(sizes) < 3 or any(n < 1 for n in sizes):
        return None, 0.0, {}
    shifted = sorted((float(n), max(float(y), 0.0) + floor) for n, y in points)
    if any(y <= 0 for _, y in shifted):
        return None, 0.0, {}
    errors = fit_errors(shifted, robust)
    tolerance = 2 * noise
    within = [name for name in MODELS if errors[name] <= tolerance]
    if within:
        best = within[0]
    else:  # nothing fits within the noise: the simplest of those about as good as the best
        lowest = min(errors.values())
        best = next(name for name in MODELS if errors[name] <= 1.5 * lowest)
    simpler = [errors[name] for name in MODELS[: MODELS.index(best)]]
    separation = 1.0 - math.exp(-(min(simpler) ** 2) / (2 * noise**2)) if simpler else 1.0
    own = math.exp(-(errors[best] ** 2) / (2 * noise**2))
    return best, separation * own, errors


def estimate(points: list[tuple[float, float]]) -> tuple[str | None, float, dict[str, float]]:
    """The class of CPU-time points (seconds) at the default noise floor."""
    return classify(points, NOISE_FLOOR, floor=TIME_FLOOR, robust=True)
