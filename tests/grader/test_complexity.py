"""Measured complexity: the fit on synthetic points, and real measurements in the sandbox."""

from __future__ import annotations

import math
import random

import pytest

from jupyter_peerprep.grader import complexity, growth
from jupyter_peerprep.grader.reports import ComplexityReport

SIZES = [1000, 2000, 4000, 8000]

SHAPES = {
    "O(1)": lambda n: 1.0,
    "O(log n)": lambda n: math.log(n),
    "O(n)": lambda n: n,
    "O(n log n)": lambda n: n * math.log(n),
    "O(n^2)": lambda n: n * n,
    "O(n^3)": lambda n: n**3,
}


# Counted steps: a leading term plus lower-order ones, as real programs have.
STEPS = {
    "O(1)": lambda n: 7,
    "O(log n)": lambda n: 5 * math.ceil(math.log2(n)) + 4,
    "O(n)": lambda n: 3 * n + 10,
    "O(n log n)": lambda n: 6 * n * math.log2(n) + 4 * n,
    "O(n^2)": lambda n: n * n / 2 + 3 * n,
    "O(n^3)": lambda n: n**3 / 6 + n * n,
}


@pytest.mark.parametrize("expected", list(STEPS))
def test_counted_steps_give_their_class_with_high_confidence(expected):
    points = [(n, STEPS[expected](n)) for n in (256, 512, 1024, 2048, 4096, 8192)]
    best, confidence, _ = complexity.classify(points, noise=0.01)
    assert best == expected
    assert confidence > 0.9


@pytest.mark.parametrize("expected", ["O(n)", "O(n^2)"])
def test_clean_cpu_times_give_their_class(expected):
    points = [(n, 1e-7 * SHAPES[expected](n)) for n in SIZES]
    best, confidence, _ = complexity.estimate(points)
    assert best == expected
    assert 0.9 < confidence <= 1


def test_exponential_growth_on_small_sizes():
    assert complexity.classify([(n, 3 * 2**n + 5) for n in (8, 10, 12, 14, 16)], 0.01)[0] == (
        "O(2^n)"
    )
    # Fibonacci's 1.618^n is exponential too.
    assert complexity.classify([(n, 1.618**n) for n in (10, 12, 14, 16)], 0.01)[0] == "O(2^n)"


@pytest.mark.parametrize("expected", ["O(n)", "O(n^2)"])
def test_fit_survives_noise_and_one_disturbed_point(expected):
    rng = random.Random(3)
    sizes = [1000, 2000, 4000, 8000, 16000]
    points = [(n, 1e-7 * SHAPES[expected](n) * rng.uniform(0.95, 1.05)) for n in sizes]
    points[2] = (points[2][0], points[2][1] * 3)  # another process got the CPU
    assert complexity.estimate(points)[0] == expected


def test_a_short_range_of_sizes_is_less_confident_than_a_wide_one():
    wide = complexity.classify([(n, n * math.log(n)) for n in (256, 1024, 4096, 16384)], 0.05)
    short = complexity.classify([(n, n * math.log(n)) for n in (1000, 1100, 1200)], 0.05)
    assert wide[0] == "O(n log n)" and wide[1] > 0.8
    assert short[1] < 0.5


def test_too_few_points_give_no_estimate():
    assert complexity.estimate([(1000, 1.0), (2000, 2.0)]) == (None, 0.0, {})


@pytest.mark.parametrize(
    ("estimate", "expected", "matches"),
    [("O(n log n)", "O(N log N)", True), ("O(n)", "O(n log n)", False), (None, "O(n)", False)],
)
def test_matches_compares_normalised_names(estimate, expected, matches):
    assert ComplexityReport(estimate, 0.9, expected).matches is matches


LINEAR = "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n"
QUADRATIC = (
    "def f(xs):\n    total = 0\n    for x in xs:\n        for y in xs:\n"
    "            total += x ^ y\n    return total\n"
)
GENERATOR = "def generate(n, rng):\n    return [[rng.randint(0, 1000) for _ in range(n)]]\n"


@pytest.mark.slow
async def test_linear_and_quadratic_solutions_are_told_apart(peerprep_grader):
    grader = peerprep_grader()
    sizes = [200, 400, 800, 1600]
    quadratic = await grader.measure_complexity(
        source=QUADRATIC, entry_point="f", generator=GENERATOR, sizes=sizes, expected="O(n)"
    )
    assert quadratic.estimate in ("O(n^2)", "O(n^3)"), quadratic.to_json()
    assert quadratic.matches is False
    linear = await grader.measure_complexity(
        source=LINEAR, entry_point="f", generator=GENERATOR, sizes=sizes, expected="O(n)"
    )
    assert linear.estimate in ("O(n)", "O(n log n)", "O(log n)"), linear.to_json()
    report = linear.to_json()
    assert [p["n"] for p in report["points"]] == sizes
    assert all(p["seconds"] > 0 for p in report["points"])
    # The quadratic one is much slower at the largest size: the chart shows it.
    assert quadratic.points[-1]["seconds"] > 10 * linear.points[-1]["seconds"]


async def test_a_solution_too_slow_for_the_sizes_stops_with_a_message(peerprep_grader):
    grader = peerprep_grader()
    report = await grader.measure_complexity(
        source="import time\ndef f(xs):\n    time.sleep(len(xs) / 1000)\n",
        entry_point="f",
        generator=GENERATOR,
        sizes=[10, 100, 5000, 10000],
        expected="O(n)",
        limits={"time_s": 1},
    )
    assert report.estimate is None
    assert "Stopped at n=5000: time limit" in report.message
    assert [p["n"] for p in report.points] == [10, 100]


async def test_a_broken_generator_is_reported_not_raised(peerprep_grader):
    report = await peerprep_grader().measure_complexity(
        source=LINEAR,
        entry_point="f",
        generator="def generate(n, rng):\n    raise RuntimeError('bug')\n",
        sizes=SIZES,
        expected="O(n)",
    )
    assert report.estimate is None and "generator failed" in report.message


@pytest.fixture(scope="module")
def references():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("reference_solutions.py")
    spec = importlib.util.spec_from_file_location("reference_solutions", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.REFERENCES


@pytest.mark.parametrize("known", ["O(n)", "O(n log n)", "O(n^2)"])
async def test_reference_solutions_get_their_time_and_space_class(
    peerprep_grader, references, known
):
    ref = references[known]
    report = await peerprep_grader().measure_complexity(
        source=ref["source"],
        entry_point="solve",
        generator=ref["generator"],
        sizes=ref["sizes"],
        expected=known,
    )
    data = report.to_json()
    # O(n) and O(n log n) are told apart by counted steps, not by a clock.
    assert (data["estimate"], data["basis"], data["matches"]) == (known, "steps", True), data
    assert data["confidence"] > 0.8
    assert data["space"]["estimate"] == ref["space"], data["space"]
    assert data["space"]["basis"] == "allocated peak"
    assert all(p["steps"] > 0 and p["peak_bytes"] >= 0 for p in data["points"])


def measured(n, seconds, steps=None, peak=None, rss=None):
    point = {"n": n, "seconds": seconds, "spread": 0.02}
    if steps is not None:
        point.update(steps=steps, peak_bytes=peak or 0)
    if rss is not None:
        point["rss_growth_kb"] = rss
    return point


NS = [256, 512, 1024, 2048, 4096]


def test_steps_that_cpu_time_confirms_decide_the_time_class():
    # CPU time a little noisy and a little superlinear (cache), steps exactly n log n.
    points = [
        measured(n, 1e-7 * n * math.log(n) * (1 + 0.05 * (i % 2)), 6 * n * math.log2(n))
        for i, n in enumerate(NS)
    ]
    time = growth.judge(points).time
    assert (time.estimate, time.basis, time.note) == ("O(n log n)", "steps", "")
    assert time.confidence > 0.9


def test_steps_that_cpu_time_contradicts_are_not_believed():
    points = [measured(n, 1e-8 * n * n, 3 * n) for n in NS]  # forged: linear steps
    time = growth.judge(points).time
    assert (time.estimate, time.basis) == ("O(n^2)", "cpu time")
    assert "CPU time grew unlike the counted steps" in time.note


def test_steps_missing_at_a_size_leave_the_class_to_cpu_time():
    points = [measured(n, 1e-7 * n, 3 * n) for n in NS[:-1]] + [measured(NS[-1], 1e-7 * NS[-1])]
    time = growth.judge(points).time
    assert (time.estimate, time.basis) == ("O(n)", "cpu time")
    assert "could not be counted at every size" in time.note


def test_memory_the_kernel_saw_but_the_tracer_did_not_decides_the_space_class():
    believed = growth.judge([measured(n, 1e-6, 5, peak=8 * n, rss=100) for n in NS]).space
    assert (believed.estimate, believed.basis) == ("O(n)", "allocated peak")
    hidden = [measured(n, 1e-6, 5, peak=0, rss=20 * n) for n in NS]  # 5 to 80 MiB unreported
    space = growth.judge(hidden).space
    assert (space.estimate, space.basis) == ("O(n)", "resident size")
    assert "more memory than it reported" in space.note
