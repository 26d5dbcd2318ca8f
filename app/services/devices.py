"""Readable devices for the account page: "Chrome on Android" from a User-Agent string,
with ua-parser (the maintained port of the uap-core rules)."""

import functools
from dataclasses import dataclass
from datetime import datetime

import ua_parser

from app.services.sessions import handle

# uap-core names some mobile builds apart; people know them by the browser's name.
_BROWSER_NAMES = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Android WebView",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Edge Mobile": "Edge",
    "Samsung Internet": "Samsung Internet",
}
_OS_NAMES = {"Mac OS X": "macOS", "Mac OS": "macOS"}


@dataclass(frozen=True)
class SessionView:
    """One row of the account page: ``handle`` (what "Log out" posts), ``device`` ("Chrome
    on Android"), ``ip``, ``created_at`` and ``last_seen_at`` (naive UTC), ``current``."""

    handle: str
    device: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


@functools.lru_cache(maxsize=256)
def device_name(user_agent: str) -> str:
    """``"<browser> on <OS>"`` (``"Chrome on Android"``, ``"Safari on iOS"``), the browser or
    the OS alone when only one is known, else ``"Unknown device"``."""
    if not user_agent:
        return "Unknown device"
    parsed = ua_parser.parse(user_agent[:500])
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    browser = _BROWSER_NAMES.get(browser, browser) if browser not in (None, "Other") else None
    system = _OS_NAMES.get(system, system) if system not in (None, "Other") else None
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def describe(records, current_id: str | None) -> list[SessionView]:
    """``SessionView`` rows for ``records`` (``UserSession``), in their order."""
    return [
        SessionView(
            handle=handle(r),
            device=device_name(r.user_agent or ""),
            ip=r.ip or "",
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            current=r.id == current_id,
        )
        for r in records
    ]


def duration_text(seconds: float) -> str:
    """``604800`` → ``"7 days"``; hours, minutes or seconds for shorter spans."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = round(seconds / size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    n = round(seconds)
    return f"{n} second{'s' if n != 1 else ''}"
