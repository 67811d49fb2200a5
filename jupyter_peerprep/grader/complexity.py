"""Estimating a growth class from measured (n, seconds) points.

Each candidate class f is fitted as ``t = c * f(n)`` by least squares in log space: the
residuals ``log t_i - log f(n_i)`` of the right class are a constant (``log c``) up to noise,
so the class whose residuals spread least fits best. With four or more sizes the point that
fits a class worst is left out of that class's error, so one measurement disturbed by another
process cannot decide the class. Among classes that fit within the noise floor of the best, the
simplest wins (a linear function on a busy machine often looks a little superlinear).

The confidence is the chosen class's share of Gaussian likelihoods ``exp(-err^2 / 2 s^2)``
with ``s`` the best error (at least the noise floor): 1.0 when every other class fits clearly
worse, about 1/k when k classes fit as well.
"""

from __future__ import annotations

import math
from collections.abc import Callable

# Name -> log f(n). Order matters only for ties: the simpler class is listed first.
MODELS: dict[str, Callable[[float], float]] = {
    "O(1)": lambda n: 0.0,
    "O(log n)": lambda n: math.log(math.log(max(n, 2.0))),
    "O(n)": lambda n: math.log(n),
    "O(n log n)": lambda n: math.log(n) + math.log(math.log(max(n, 2.0))),
    "O(n^2)": lambda n: 2 * math.log(n),
    "O(n^3)": lambda n: 3 * math.log(n),
    "O(2^n)": lambda n: n * math.log(2.0),
}

NOISE_FLOOR = 0.05  # log-space RMS of repeated timings on a quiet machine (about 5 %)
TIME_FLOOR = 1e-7  # seconds; shorter measurements are clock noise


def _rms_spread(residuals: list[float]) -> float:
    mean = sum(residuals) / len(residuals)
    return math.sqrt(sum((r - mean) ** 2 for r in residuals) / len(residuals))


def fit_errors(points: list[tuple[float, float]]) -> dict[str, float]:
    """RMS of the log-space residuals of every model (lower is better)."""
    errors: dict[str, float] = {}
    for name, log_f in MODELS.items():
        residuals = [math.log(max(t, TIME_FLOOR)) - log_f(n) for n, t in points]
        error = _rms_spread(residuals)
        if len(residuals) >= 4:
            # Leave out the one point this model fits worst (robust to a single outlier).
            error = min(
                _rms_spread(residuals[:i] + residuals[i + 1 :]) for i in range(len(residuals))
            )
        errors[name] = error
    return errors


def estimate(points: list[tuple[float, float]]) -> tuple[str | None, float, dict[str, float]]:
    """(best class, confidence 0..1, errors per class) for at least three distinct sizes."""
    sizes = {n for n, _ in points}
    if len(sizes) < 3 or any(n < 1 for n in sizes):
        return None, 0.0, {}
    errors = fit_errors(points)
    lowest = min(errors.values())
    # MODELS is ordered from simplest to most complex: take the first within the noise.
    best = next(name for name in MODELS if errors[name] <= lowest + NOISE_FLOOR)
    scale = max(lowest, NOISE_FLOOR)
    weights = {name: math.exp(-(e**2) / (2 * scale**2)) for name, e in errors.items()}
    confidence = weights[best] / sum(weights.values())
    return best, confidence, errors
