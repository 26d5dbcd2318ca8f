"""The errors services raise; ``app/errors.py`` turns them into HTTP answers."""


class ServiceError(Exception):
    """A rule refused the request; ``status_code`` is the HTTP status a view returns.

    400 malformed input, 403 not this user's to do, 404 unknown resource, 409 conflict with
    the current state, 422 well-formed input that breaks a rule. ``extra`` (a dict) goes into
    the JSON answer beside ``success`` and ``error``: e.g. a 409's ``order`` as it is now.
    """

    status_code = 422

    def __init__(self, message: str, status_code: int | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class Invalid(ServiceError):
    status_code = 422
