"""The shipped Grafana dashboard's main panels, drawn from scraped ``/metrics`` samples into
a small HTML page (SVG lines, no Grafana here), for ``test_outage_panels.py``. Each panel
is computed the way its PromQL in ``deploy/monitoring/orderpulse-dashboard.json`` says:
gauges as scraped, ``rate()`` as the difference of two scrapes over their interval."""

import html
import re

SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})? ([-+0-9.eEinfNa]+)$")


def parse(text: str) -> dict[tuple[str, str], float]:
    values = {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match:
            values[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return values


def total(sample: dict, name: str, **labels) -> float:
    return sum(
        value
        for (metric, text), value in sample.items()
        if metric == name and all(f'{k}="{v}"' in text for k, v in labels.items())
    )


def series(scrapes: list[tuple[float, dict]]) -> dict[str, list[tuple[float, float]]]:
    """Panel name → points (seconds since the first scrape, value)."""
    start = scrapes[0][0]
    out: dict[str, list] = {
        "Database (orderpulse_dependency_up)": [],
        "Requests/s, 200": [],
        "Requests/s, 503": [],
        "5xx ratio": [],
        "Open streams": [],
        "Database connections in use": [],
    }
    for (t0, a), (t1, b) in zip(scrapes, scrapes[1:], strict=False):
        at, span = t1 - start, t1 - t0
        ok = total(b, "orderpulse_http_requests_total", status="200") - total(
            a, "orderpulse_http_requests_total", status="200"
        )
        bad = total(b, "orderpulse_http_requests_total", status="503") - total(
            a, "orderpulse_http_requests_total", status="503"
        )
        every = total(b, "orderpulse_http_requests_total") - total(
            a, "orderpulse_http_requests_total"
        )
        out["Database (orderpulse_dependency_up)"].append(
            (at, total(b, "orderpulse_dependency_up", dependency="database"))
        )
        out["Requests/s, 200"].append((at, ok / span))
        out["Requests/s, 503"].append((at, bad / span))
        out["5xx ratio"].append((at, bad / every if every else 0.0))
        out["Open streams"].append((at, total(b, "orderpulse_open_streams")))
        out["Database connections in use"].append((at, total(b, "orderpulse_db_pool_checked_out")))
    return out


def page(panels: dict, outage: tuple[float, float], title: str) -> str:
    width, height = 460, 150
    end = max(t for points in panels.values() for t, _ in points) or 1.0
    cards = []
    for name, points in panels.items():
        top = max([v for _, v in points] + [1.0])

        def x(t: float) -> float:
            return 40 + (width - 50) * t / end

        def y(v: float, top=top) -> float:
            return height - 25 - (height - 45) * v / top

        line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
        last = points[-1][1] if points else 0
        shade = (
            f'<rect x="{x(outage[0]):.1f}" y="10" width="{x(outage[1]) - x(outage[0]):.1f}"'
            f' height="{height - 35}" fill="#fde2e1"/>'
        )
        stat = ""
        if name.startswith("Database ("):
            down = min((v for t, v in points if outage[0] < t <= outage[1]), default=1) == 0
            stat = (
                f'<span class="stat {"down" if down else "up"}">{"DOWN" if down else "UP"}</span>'  # noqa: E501
            )
        cards.append(
            f'<section><h2>{html.escape(name)} {stat}</h2><svg width="{width}" height="{height}">'
            f'{shade}<polyline fill="none" stroke="#3274d9" stroke-width="2" points="{line}"/>'
            f'<text x="4" y="20">{top:g}</text><text x="4" y="{height - 25}">0</text>'
            f'<text x="40" y="{height - 6}">0 s</text><text x="{width - 40}" y="{height - 6}">'
            f"{end:.0f} s</text></svg><p>last: {last:.3g}</p></section>"
        )
    return (
        "<!doctype html><meta charset=utf-8><style>body{font:14px sans-serif;background:#111217;"
        "color:#ccccdc;margin:16px}main{display:grid;grid-template-columns:repeat(3,480px);"
        "gap:12px}section{background:#181b1f;border:1px solid #2c3235;padding:8px}"
        "h2{font-size:14px;margin:0 0 6px}svg text{fill:#8e8e8e;font-size:11px}"
        ".stat{padding:2px 8px;border-radius:3px}.down{background:#c4162a;color:#fff}"
        ".up{background:#37872d;color:#fff}</style>"
        f"<h1 style='font-size:18px'>{html.escape(title)}</h1><main>{''.join(cards)}</main>"
    )
