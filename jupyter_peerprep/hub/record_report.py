"""The PDF report of an attempt: server-rendered HTML (``templates/record_report.html``,
autoescaped), printed to PDF by the Chromium already on the machine through Playwright.

What it shows comes from the record's summary (``record_api.record_json``) and the room: the
question as the students saw it (the notebook's first markdown cell, never the spec with its
hidden tests), the final code, the last Run/Submit's per-case verdicts, the measured
complexity with a small chart, a timeline, the collaboration metrics, the pastes and the room
chat's transcript (``talk/transcript.py``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tornado.template import Loader

from ..db.models import Room, Run
from .talk import transcript as talk_transcript

TEMPLATES_DIR = Path(__file__).parent / "templates"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chat_transcript(s: Session, room_id: str) -> list[dict[str, Any]]:
    """The room's chat as [{"at", "user", "text"}] (the transcript history shows)."""
    return [
        {"at": m["time"][11:19] + " UTC", "user": m["name"], "text": m["body"]}
        for m in talk_transcript.saved(s, room_id)
    ]


def _clock(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%H:%M:%S UTC")


def _seconds(value: float | None) -> str:
    if value is None:
        return "never"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def complexity_chart(points: list[dict[str, Any]]) -> str:
    """An inline SVG of the measured (n, seconds) points, or "" with fewer than two."""
    usable = [(float(p["n"]), float(p["seconds"])) for p in points if "n" in p and "seconds" in p]
    if len(usable) < 2:
        return ""
    width, height, pad = 360, 160, 30
    max_n = max(n for n, _ in usable) or 1.0
    max_s = max(s for _, s in usable) or 1.0
    coords = [
        (pad + (width - 2 * pad) * n / max_n, height - pad - (height - 2 * pad) * s / max_s)
        for n, s in usable
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in coords)
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="running time by input '
        f'size"><polyline points="{line}" fill="none" stroke="black"/>{dots}'
        f'<text x="{pad}" y="{height - 8}" font-size="10">input size n (max {int(max_n)})</text>'
        f'<text x="2" y="14" font-size="10">seconds (max {max_s:.3g})</text></svg>'
    )


def report_html(factory: sessionmaker[Session], room_id: str, summary: dict[str, Any]) -> str:
    with factory() as s:
        room = s.get(Room, room_id)
        assert room is not None
        last = s.scalar(
            select(Run).where(Run.room_id == room_id).order_by(Run.created.desc()).limit(1)
        )
        notebook = room.final_notebook or {}
        members = sorted(m.username for m in room.members)
        started = room.started.strftime("%Y-%m-%d %H:%M UTC") if room.started else "—"
        difficulty, end_reason = room.difficulty, room.end_reason
        chat = chat_transcript(s, room_id)
        submit = None
        if last is not None:
            report = last.report or {}
            submit = {
                "kind": last.kind,
                "passed": last.passed,
                "total": last.total,
                "verdict": last.verdict,
                "cases": report.get("cases", []),
                "complexity": report.get("complexity"),
            }
    cells = notebook.get("cells") or []
    markdown = [c for c in cells if c.get("cell_type") == "markdown"]
    prompt = "".join(markdown[0].get("source") or "") if markdown else ""
    title = prompt.splitlines()[0].lstrip("# ").strip() if prompt else f"Attempt {room_id}"
    sources = summary.get("final_sources") or []
    kinds = [a["cell_type"] for a in summary.get("authors", [])]
    final_code = [src for src, kind in zip(sources, kinds, strict=False) if kind == "code"]
    if not final_code:
        final_code = [
            "".join(c.get("source") or "") for c in cells if c.get("cell_type") == "code"
        ][:1]
    complexity = (submit or {}).get("complexity")
    replay = summary.get("replay", {})
    timeline = [
        {"at": _clock(m["at_ms"]), "what": m["kind"], "user": m["user"]}
        for m in sorted(replay.get("marks", []), key=lambda m: m["at_ms"])
    ]
    pastes = [{**p, "at": _clock(p["at_ms"])} for p in summary.get("pastes", [])]
    loader = Loader(str(TEMPLATES_DIR))
    html = loader.load("record_report.html").generate(
        title=title,
        members=members,
        difficulty=difficulty,
        started=started,
        duration=_seconds(summary["metrics"]["duration_s"]),
        end_reason=end_reason,
        prompt=prompt,
        final_code=final_code,
        submit=submit,
        complexity=complexity,
        chart=complexity_chart((complexity or {}).get("points") or []),
        timeline=timeline,
        metrics=summary["metrics"],
        seconds=_seconds,
        pastes=pastes,
        chat=chat,
    )
    return bytes(html).decode()


async def pdf_of(html: str, chromium: str, timeout_s: float) -> bytes:
    """``html`` printed to A4 PDF by headless Chromium (no network: the page is self-made)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(java_script_enabled=False)
            await page.route("**/*", lambda route: route.abort())
            await page.set_content(html, timeout=timeout_s * 1000)
            pdf: bytes = await page.pdf(format="A4", print_background=True)
            return pdf
        finally:
            await browser.close()
