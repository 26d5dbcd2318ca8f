"""Predicates over ``event: presence`` frames (docs/design.md §5a), for server tests."""

import json

ANY = object()


def admins(frame: dict) -> list[dict]:
    """The ``admins`` of a presence frame (``[]`` for any other frame)."""
    if frame.get("event") != "presence":
        return []
    return json.loads(frame["data"])["admins"]


def has_admin(username: str, order_id=ANY, action=ANY):
    """Predicate: a presence frame showing ``username`` (with that focus, when given)."""

    def match(frame: dict) -> bool:
        return any(
            entry["username"] == username
            and (order_id is ANY or entry["order_id"] == order_id)
            and (action is ANY or entry["action"] == action)
            for entry in admins(frame)
        )

    return match


def lacks_admin(username: str):
    """Predicate: a presence frame in which ``username`` is not shown."""

    def match(frame: dict) -> bool:
        return frame.get("event") == "presence" and all(
            entry["username"] != username for entry in admins(frame)
        )

    return match
