"""Tracking numbers: the move to Shipped may carry a carrier and a tracking number, shown in
the order's details, the CSV and (live) on the customer's order page."""

import re
from urllib.parse import quote

from app.services.bodies import refuse

# Carrier → the public tracking page for a number (None: no page we can link to).
CARRIERS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "DHL": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={}",
    "DPD": "https://www.dpd.com/tracking/?parcelNumber={}",
    "GLS": "https://gls-group.com/track/{}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "La Poste": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    "PostNL": "https://jouw.postnl.nl/track-and-trace/{}",
    "Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{}",
    "Other": None,
}
MIN_NUMBER, MAX_NUMBER = 6, 40
_NUMBER = re.compile(r"[A-Z0-9]+")
# UPS's own format is well known and strict: "1Z", then 16 letters or digits.
_PATTERNS = {"UPS": re.compile(r"1Z[A-Z0-9]{16}")}


def shipment(carrier: str | None, number: str | None) -> tuple[str, str] | None:
    """``(carrier, tracking_number)`` of a status body's strings (a model validator's
    rule: ``order_request.MoveBody``), or ``None`` when neither is given. The carrier is
    matched case-insensitively against ``CARRIERS``; the number is upper-cased with spaces
    and dashes removed, then must be 6..40 letters and digits (UPS: ``1Z`` + 16). Raises
    ``refuse("tracking", ...)`` (422) for one given without the other, an unknown carrier
    or a malformed number."""
    if carrier is None and number is None:
        return None
    if not (carrier or "").strip() or not (number or "").strip():
        raise refuse("tracking", "Give both a carrier and a tracking number, or neither")
    known = {name.lower(): name for name in CARRIERS}
    name = known.get(carrier.strip().lower())
    if name is None:
        raise refuse(
            "tracking",
            f"Unknown carrier {carrier.strip()[:40]!r}; one of: {', '.join(CARRIERS)}",
        )
    number = re.sub(r"[\s-]", "", number).upper()
    pattern = _PATTERNS.get(name)
    if (
        not MIN_NUMBER <= len(number) <= MAX_NUMBER
        or not _NUMBER.fullmatch(number)
        or (pattern and not pattern.fullmatch(number))
    ):
        raise refuse(
            "tracking",
            f"{number[:MAX_NUMBER]!r} is not a {name} tracking number "
            f"({MIN_NUMBER} to {MAX_NUMBER} letters and digits"
            + ('; UPS numbers are "1Z" and 16 more' if name == "UPS" else "")
            + ")",
        )
    return name, number


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    """The carrier's public tracking page for ``number``, or ``None``."""
    template = CARRIERS.get(carrier or "")
    if not template or not number:
        return None
    return template.format(quote(number, safe=""))
