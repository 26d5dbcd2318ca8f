"""Tags on orders: short labels ("vip", "gift", "fragile") to filter, search and act on.

A change of tags is one change of its own through ``record_change`` (kind ``tagged``, the
entry's ``note`` says what moved: ``+vip -gift``); the order summary in the live event
carries the new ``tags``, so every dashboard's row, filter and saved-view count follow.
"""

import re
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictStr,
    ValidationInfo,
    model_validator,
)

from app.extensions import db
from app.models import Order, OrderTag, User
from app.models.timestamps import utcnow
from app.services import Invalid
from app.services.bodies import ANY, Refusal, check, refuse
from app.services.changes import record_change
from app.services.counts import insert

MAX_TAG = 32
MAX_TAGS = 20  # per order, and per request list
# Letters (any script), digits, and inner spaces, dashes, underscores, dots.
_TAG = re.compile(r"[^\W_](?:[\w .-]*[^\W_])?")


def _stored(raw: str) -> str | None:
    """``raw`` as a stored tag, or ``None`` when it breaks the rule."""
    tag = " ".join(raw.split()).casefold()
    # " -" would make a tagged entry's note ("+a -b") ambiguous.
    if not tag or len(tag) > MAX_TAG or not _TAG.fullmatch(tag) or " -" in tag:
        return None
    return tag


def _not_a_tag(raw: str) -> str:
    return (
        f"{raw.strip()[:MAX_TAG]!r} is not a tag: 1 to {MAX_TAG} letters or digits "
        "(spaces, '-', '_' and '.' inside)"
    )


def normalise(raw) -> str:
    """A tag as stored: stripped, inner whitespace collapsed, lower case (Unicode
    case-folding), 1..32 characters of letters, digits and inner ``space . - _`` (no
    dash right after a space). Raises
    ``Invalid``: 400 for a value that is not a string, 422 for one that breaks the rule."""
    if not isinstance(raw, str):
        raise Invalid("A tag must be a string", 400)
    tag = _stored(raw)
    if tag is None:
        raise Invalid(_not_a_tag(raw))
    return tag


def _tag(raw: str) -> str:
    tag = _stored(raw)
    if tag is None:
        raise refuse("tag", _not_a_tag(raw))
    return tag


def _at_most(tags: Any, info: ValidationInfo) -> Any:
    # Counted before any tag is read: a list past the limit is refused for that alone.
    if isinstance(tags, list) and len(tags) > MAX_TAGS:
        raise refuse("tags", f"At most {MAX_TAGS} tags in {info.field_name}")
    return tags


Tags = Annotated[
    list[Annotated[StrictStr, AfterValidator(_tag)]],
    BeforeValidator(_at_most),
    AfterValidator(lambda tags: list(dict.fromkeys(tags))),  # de-duplicated, in order
]


class TagChange(BaseModel):
    """Tags to add and to remove, normalised and de-duplicated; a missing list is empty
    (``null`` is not a list). Other keys are ignored: a bulk body carries its own."""

    model_config = ConfigDict(strict=True)

    add: Tags = []
    remove: Tags = []

    @model_validator(mode="after")
    def _something_to_do(self) -> "TagChange":
        if not self.add and not self.remove:
            raise refuse("change", "Nothing to do: give tags to add or to remove")
        if set(self.add) & set(self.remove):
            raise refuse("change", "A tag cannot be added and removed at once")
        return self


def _list_refusals(key: str) -> tuple:
    return (
        Refusal((key,), f"{key} must be a list of tags", 400, ("list_type",)),
        Refusal((key,), types=("tags",)),
        (  # tag by tag, in the list's order
            Refusal((key, ANY), "A tag must be a string", 400, ("string_type",)),
            Refusal((key, ANY), types=("tag",)),
        ),
    )


# The order the rules have always been checked in: the first one broken is the answer.
REFUSALS = (
    Refusal((), 'Send JSON {"add": ["tag", ...], "remove": ["tag", ...]}', 400, ("model_type",)),
    *_list_refusals("add"),
    *_list_refusals("remove"),
    Refusal(types=("change",)),
)


def parse_tag_change(payload) -> tuple[list[str], list[str]]:
    """``{"add": [str], "remove": [str]}`` (either may be missing) → normalised, de-duplicated
    ``(add, remove)`` (``TagChange``). Raises ``Invalid``: 400 for a body that is not an
    object or lists that are not lists of strings; 422 for a bad tag, more than 20 in a
    list, nothing to do, or a tag both added and removed. One refusal per body: the first
    in ``REFUSALS``' order (``add`` before ``remove``, each tag in the list's order)."""
    change = check(TagChange, payload, REFUSALS)
    return change.add, change.remove


def apply_tags(order: Order, add: list[str], remove: list[str], actor: User) -> bool:
    """Add and remove tags of ``order`` inside the caller's transaction; ``False`` (nothing
    written, no event) when it already has exactly that. Raises ``Invalid`` (422) past 20
    tags on one order."""
    said = write_tags(order, add, remove)
    if said is None:
        return False
    record_change(order, "tagged", actor, {}, note=said, at=utcnow())
    return True


def write_tags(order: Order, add: list[str], remove: list[str]) -> str | None:
    """The tag rows of ``apply_tags``, without its activity entry (a bulk action records
    its entries together: ``changes.record_changes``): returns the entry's note ("+vip
    -gift"), or ``None`` when nothing changed. Raises ``Invalid`` (422), before writing,
    past 20 tags on one order."""
    have = set(order.tags)
    added = [t for t in add if t not in have]
    removed = [t for t in remove if t in have]
    if not added and not removed:
        return None
    if len(have) + len(added) - len(removed) > MAX_TAGS:
        raise Invalid(f"An order has at most {MAX_TAGS} tags")
    if removed:
        db.session.execute(
            sa.delete(OrderTag).where(OrderTag.order_id == order.id, OrderTag.tag.in_(removed))
        )
    if added:
        # Two admins adding the same tag at once: the second insert is a no-op, not a 500.
        rows = [{"order_id": order.id, "tag": tag} for tag in added]
        db.session.execute(insert(OrderTag.__table__).values(rows).on_conflict_do_nothing())
    db.session.flush()
    db.session.expire(order, ["tag_rows"])
    return " ".join([f"+{t}" for t in added] + [f"-{t}" for t in removed])


def all_tags(limit: int = 200) -> list[tuple[str, int]]:
    """``[(tag, orders)]``, the most used first: the dashboard's tag filter choices."""
    count = sa.func.count().label("n")
    rows = db.session.execute(
        sa.select(OrderTag.tag, count).group_by(OrderTag.tag).order_by(count.desc()).limit(limit)
    )
    return [(tag, int(n)) for tag, n in rows]
