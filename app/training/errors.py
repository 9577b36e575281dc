"""Errors of session commands, mapped to HTTP statuses by the web layer."""


class SessionError(ValueError):
    """A command that cannot be done in the session's current state (→ 4xx)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class SessionBusy(SessionError):
    """Another command holds the session (→ 409, try again)."""


def check_index(field: str, value, upper: int, what: str) -> int:
    """A whole number in 0..upper−1 from JSON, or a SessionError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < upper:
        raise SessionError(field, f"{field} must be {what} from 0 to {upper - 1}")
    return value
