"""The session signing key: from ``SECRET_KEY``, or (development only) a random key made
once and kept in ``instance/secret_key``; never a constant from the repository.

Anyone who knows the key can sign a session cookie for any user id,
so production refuses a missing, short or placeholder key at start-up, and development
never falls back to a value that is written down anywhere.
"""

import contextlib
import os
import secrets
from pathlib import Path

from flask import Flask

KEY_FILE = "secret_key"
MIN_BYTES = 32
# Values that have appeared in this repository's examples and defaults: never a real key.
PLACEHOLDERS = frozenset(
    {
        "change-me-to-64-random-bytes",
        "dev-only-not-secret",
        "change-me",
        "changeme",
        "secret",
        "dev",
    }
)


class SecretKeyError(RuntimeError):
    """The configured key is unusable; the message says why and how to make a good one."""


def configure(app: Flask, *, production: bool) -> None:
    """Set ``app.config["SECRET_KEY"]``: the configured value (``SECRET_KEY`` in the
    environment or an override), checked; else, outside production, the key kept in
    ``instance/`` (or the ``SECRET_KEY_FOLDER`` override: tests).

    Raises ``SecretKeyError`` when production has no key, a key under ``MIN_BYTES`` bytes,
    or a placeholder, and in any environment for a placeholder."""
    key = app.config.get("SECRET_KEY") or os.environ.get("SECRET_KEY") or None
    if key is None and not production:
        folder = app.config.get("SECRET_KEY_FOLDER") or app.instance_path
        key = instance_key(Path(folder))
    check(key, production=production)
    app.config["SECRET_KEY"] = key


def check(key: str | bytes | None, *, production: bool) -> None:
    """Raise ``SecretKeyError`` for a key nobody may sign with (see ``configure``)."""
    hint = 'make one with: python -c "import secrets; print(secrets.token_hex(32))"'
    if not key:
        raise SecretKeyError(f"SECRET_KEY is not set; {hint}")
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    if text.strip().lower() in PLACEHOLDERS or "change-me" in text.lower():
        raise SecretKeyError(f"SECRET_KEY is a placeholder from the examples; {hint}")
    size = len(key if isinstance(key, bytes) else key.encode())
    if production and size < MIN_BYTES:
        raise SecretKeyError(f"SECRET_KEY has {size} bytes, at least {MIN_BYTES} needed; {hint}")


def instance_key(folder: Path) -> str:
    """The development key in ``folder/secret_key`` (mode 0600), made on first use.

    Several gunicorn workers start at once: each writes a candidate to a private temporary
    file and ``link``\\s it into place, which fails if another worker won, so every worker
    reads the one complete key that exists (a reader never sees a half-written file)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    if not path.exists():
        candidate = folder / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another worker was first: use its key
                os.link(candidate, path)
        finally:
            candidate.unlink(missing_ok=True)
    key = path.read_text().strip()
    if len(key) < MIN_BYTES:
        raise SecretKeyError(f"{path} holds no usable key: delete it to make a new one")
    return key
