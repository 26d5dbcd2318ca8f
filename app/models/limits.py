"""Bounds the databases put on values: checked at the door, so bad input is a 4xx rather
than an overflow inside the driver (a 500)."""

MAX_DB_INT = 2**31 - 1  # the largest integer every database here stores as an id
