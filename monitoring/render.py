"""Draw the dashboard's panels from a Prometheus server, in the dashboard's layout (matplotlib).

Not Grafana (no Grafana can be installed on the development machines): the same panels,
queries and grid positions as ``monitoring/grafana/peerprep.json``, each query evaluated by a
real Prometheus over a time range (``/api/v1/query_range``) and drawn with matplotlib, for the
how-to's picture of the dashboard. Grafana's ``$__rate_interval`` becomes ``rate_interval``.

    .venv/bin/python monitoring/render.py --prometheus URL --start UNIX --end UNIX OUT.png
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib
import requests

matplotlib.use("Agg")

import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent
DASHBOARD = HERE / "grafana" / "peerprep.json"
ROW_HEIGHT_IN = 0.42  # inches per grid row of Grafana (30 px)


def query_range(
    prometheus: str, expr: str, start: float, end: float, step: float
) -> list[dict[str, Any]]:
    response = requests.get(
        f"{prometheus}/api/v1/query_range",
        params={"query": expr, "start": start, "end": end, "step": step},
        timeout=30,
    )
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


def legend(template: str, labels: dict[str, str]) -> str:
    out = template
    for key, value in labels.items():
        out = out.replace("{{" + key + "}}", value)
    return out


def draw_series(ax: Any, panel: dict[str, Any], data: list[tuple[str, list]]) -> None:
    drawn = False
    for name, points in data:
        xs = [datetime.fromtimestamp(t) for t, v in points if not math.isnan(v)]
        ys = [v for _, v in points if not math.isnan(v)]
        if xs:
            ax.plot(xs, ys, label=name, linewidth=1.4)
            drawn = True
    if drawn:
        ax.legend(fontsize=6, loc="upper left", frameon=False)
    else:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color="grey", transform=ax.transAxes)
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    if unit == "s":
        ax.set_ylabel("seconds", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%H:%M"))
    ax.grid(alpha=0.25)
    ax.set_ylim(bottom=0)


def draw_stat(ax: Any, data: list[tuple[str, list]]) -> None:
    values = [points[-1][1] for _, points in data if points]
    text = "No data" if not values else f"{sum(values):g}"
    ax.text(0.5, 0.4, text, ha="center", va="center", fontsize=22, color="#2b8a3e")
    ax.set_axis_off()


def render(
    prometheus: str,
    start: float,
    end: float,
    out: Path,
    rate_interval: str = "1m",
    board: dict[str, Any] | None = None,
) -> Path:
    """Draw every panel of ``board`` (the committed dashboard by default) into ``out``."""
    board = board or json.loads(DASHBOARD.read_text())
    panels = board["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig = plt.figure(figsize=(16, rows * ROW_HEIGHT_IN))
    fig.suptitle(
        f"{board['title']} dashboard: panels of monitoring/grafana/peerprep.json drawn with "
        "matplotlib from a real Prometheus (not Grafana)",
        fontsize=10,
    )
    step = max(1.0, (end - start) / 200)
    for panel in panels:
        pos = panel["gridPos"]
        # Figure coordinates: x in 24 columns, y from the top, with a margin for the title.
        left, width = 0.03, 0.96  # room for the y-axis labels of the leftmost panels
        rect = (
            left + width * pos["x"] / 24 + 0.006,
            1 - (pos["y"] + pos["h"]) / (rows + 1.2) + 0.012,
            width * pos["w"] / 24 - 0.03,
            pos["h"] / (rows + 1.2) - 0.035,
        )
        if panel["type"] == "row":
            fig.text(rect[0], rect[1] + rect[3] + 0.005, panel["title"], fontsize=10, weight="bold")
            continue
        ax = fig.add_axes(rect)
        ax.set_title(panel["title"], fontsize=8, loc="left")
        data = []
        for t in panel["targets"]:
            expr = t["expr"].replace("$__rate_interval", rate_interval)
            for series in query_range(prometheus, expr, start, end, step):
                points = [(float(ts), float(v)) for ts, v in series["values"]]
                data.append((legend(t["legendFormat"], series["metric"]), points))
        if panel["type"] == "stat":
            draw_stat(ax, data)
        else:
            draw_series(ax, panel, data)
            ax.set_xlim(datetime.fromtimestamp(start), datetime.fromtimestamp(end))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80, metadata={"Software": None})
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument("--rate-interval", default="1m")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    render(args.prometheus, args.start, args.end, args.out, args.rate_interval)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
