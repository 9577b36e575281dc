"""Training sessions: the typed configuration, the session with its phase cursor and
worker, the frame encoder and the store of live sessions."""

from .config import FIELDS, ConfigError, Limits, to_query, validate
from .registry import SessionStore, TooManySessions
from .session import Session, SessionError

__all__ = ["FIELDS", "ConfigError", "Limits", "Session", "SessionError", "SessionStore",
           "TooManySessions", "to_query", "validate"]
