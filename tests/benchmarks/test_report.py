"""The benchmark report: docs/benchmarks.md's tables and plots, generated from recorded JSON.

``make benchmarks`` runs the scripts (minutes of CPU) and then ``publish.publish``; these tests
run the second half on results recorded by the scripts (tests/benchmarks/data/) and check what
a reader of the page gets: every script's section with its machine context and table, every
plot as a PNG the page links, the prose around the generated blocks untouched.
"""

from __future__ import annotations

import json
import shutil
import struct
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(REPO / "benchmarks"))

import publish  # noqa: E402
import run_all  # noqa: E402

# What each script's table must show (a row or column a reader looks for).
TABLE_ROWS = {
    "sandbox": ["bwrap sandbox", "docker sandbox", "easy-question Submit, bwrap", "p95 ms"],
    "matching": ["SQLite (bare commit", "PostgreSQL (bare commit", "p99 ms", "double matches"],
    "questions": ["one sandbox run", "bank load on restart", "`GET api/health` (baseline)"],
    "rooms": ["warm pool", "cold spawn", "p95 s"],
    "complexity": ["O(n log n)", "O(n^2)", "fitted class"],
}
PLOTS = {
    "sandbox": ["sandbox-latency.png"],
    "matching": ["matching-latency.png"],
    "rooms": ["rooms-readiness.png", "rooms-memory.png"],
    "complexity": ["complexity-curves.png"],
    "questions": [],
}


def block(page: str, name: str) -> str:
    begin, end = publish.markers(name)
    assert begin in page and end in page, f"no generated block for {name}"
    return page.split(begin, 1)[1].split(end, 1)[0]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    results = tmp / "results"
    shutil.copytree(DATA, results)
    doc = tmp / "docs" / "benchmarks.md"
    doc.parent.mkdir()
    shutil.copy(REPO / "docs" / "benchmarks.md", doc)
    images = tmp / "docs" / "images" / "benchmarks"
    names = publish.publish(results, doc, images)
    return names, doc, images, results


def test_every_recorded_script_gets_its_table_with_machine_context(report):
    names, doc, _images, _results = report
    assert sorted(names) == sorted(TABLE_ROWS)
    page = doc.read_text()
    for name, rows in TABLE_ROWS.items():
        text = block(page, name)
        assert text.strip().startswith("Machine: 2 CPUs, load average"), name
        assert "quick profile" in text, name
        assert "|---|" in text, f"{name}: no table"
        for row in rows:
            assert row in text, f"{name}: {row!r} missing"
    summary = block(page, "run")
    for name in TABLE_ROWS:
        assert f"`benchmarks/{name}.py`" in summary


def test_figures_come_from_the_json(report):
    _names, doc, _images, results = report
    page = doc.read_text()
    rooms = json.loads((results / "rooms.json").read_text())
    warm = rooms["rows"][0]
    assert f"| warm pool | {warm['matches']} | {warm['p50_s']:.3f} |" in block(page, "rooms")
    matching = json.loads((results / "matching.json").read_text())
    p99 = matching["backends"]["sqlite"]["rate_1000"]["p99_ms"]
    assert f"| {p99:.1f} |" in block(page, "matching")


def test_every_plot_is_a_png_the_page_links(report):
    _names, doc, images, _results = report
    page = doc.read_text()
    for name, files in PLOTS.items():
        for file in files:
            width, height = png_size(images / file)
            assert width >= 400 and height >= 200, file
            assert f"](images/benchmarks/{file})" in block(page, name)
    assert sorted(p.name for p in images.iterdir()) == sorted(
        f for fs in PLOTS.values() for f in fs
    )


def test_prose_stays_and_a_second_run_changes_nothing(report):
    _names, doc, images, results = report
    page = doc.read_text()
    # Explanations outside the generated blocks are kept as they were written.
    assert "**Group commit.**" in page
    assert "History: a run of the same benchmark while four other test suites" in page
    publish.publish(results, doc, images)
    assert doc.read_text() == page


def test_a_new_script_is_reported_and_a_failed_one_says_so(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "run.json").write_text(
        json.dumps(
            {
                "profile": "quick",
                "started": "2026-12-04T20:00",
                "scripts": {
                    "soak": {"args": [], "status": "ok", "seconds": 3.0},
                    "rooms": {"args": [], "status": "failed (exit code 1)", "seconds": 2.0},
                },
            }
        )
    )
    (results / "soak.json").write_text(
        json.dumps({"machine": {"cpus": 2}, "kill_to_failed_s": {"p50_ms": 812.5, "n": 5}})
    )
    doc = tmp_path / "benchmarks.md"
    shutil.copy(REPO / "docs" / "benchmarks.md", doc)
    publish.publish(results, doc, tmp_path / "images")
    page = doc.read_text()
    # A script the page has no place for yet gets a section of its own, with a table of all
    # its figures.
    soak = block(page, "soak")
    assert "## soak" in page
    assert "| `kill_to_failed_s.p50_ms` | 812.500 |" in soak
    assert "Not measured in the last run" in block(page, "rooms")
    assert "failed (exit code 1)" in block(page, "rooms")


def test_run_all_finds_every_benchmark_by_its_profiles(tmp_path):
    found, skipped = run_all.discover()
    assert {"matching", "questions", "rooms", "sandbox", "complexity"} <= set(found)
    assert {"report.py", "run_all.py", "publish.py", "tables.py", "plots.py"} <= set(skipped)
    # Every benchmark has a place (and prose) on the page, and both profiles.
    page = (REPO / "docs" / "benchmarks.md").read_text()
    for name, profiles in found.items():
        assert publish.markers(name)[0] in page, name
        assert set(profiles) == {"quick", "full"}
    (tmp_path / "new.py").write_text('PROFILES = {"quick": ["--n", 1], "full": ["--n", 9]}\n')
    (tmp_path / "helper.py").write_text("X = 1\n")
    found, skipped = run_all.discover(tmp_path)
    assert found == {"new": {"quick": ["--n", "1"], "full": ["--n", "9"]}}
    assert skipped == ["helper.py"]


def test_run_all_records_the_machine_context_of_each_script(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    results.mkdir()
    (tmp_path / "tiny.py").write_text(
        "import json, sys\n"
        'PROFILES = {"quick": ["--n", "2"], "full": ["--n", "9"]}\n'
        f"open({str(results / 'tiny.json')!r}, 'w').write(json.dumps({{'n': sys.argv[2]}}))\n"
        "print('| tiny table |')\n"
    )
    (tmp_path / "broken.py").write_text(
        'PROFILES = {"quick": [], "full": []}\nraise SystemExit(3)\n'
    )
    (results / "broken.json").write_text("{}")  # the last run's figures
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setattr(run_all, "RESULTS", results)
    ok = run_all.run_one("tiny", ["--n", "2"], "quick")
    failed = run_all.run_one("broken", [], "quick")
    assert ok["status"] == "ok" and failed["status"] == "failed (exit code 3)"
    data = json.loads((results / "tiny.json").read_text())
    assert data["n"] == "2"
    run = data["run"]
    assert run["profile"] == "quick" and run["args"] == ["--n", "2"] and run["cpus"] >= 1
    assert len(run["load_at_start"]) == 3 and len(run["load_at_end"]) == 3
    assert 0 <= run["steal_percent"] <= 100
    # A failed script leaves no figures behind to be reported as this run's.
    assert not (results / "broken.json").exists()
    out = capsys.readouterr().out
    assert "machine context for tiny: [" in out and "CPUs, load" in out
