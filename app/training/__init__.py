"""Training sessions: the typed configuration, the problem, the trainer and its phase
cursor, the moments a session publishes, the frame encoder and the session registry."""

from .config import FIELDS, ConfigError, Limits, to_query, validate
from .moment import Moment
from .registry import SessionStore, TooManySessions
from .session import Session, SessionBusy, SessionError

__all__ = ["FIELDS", "ConfigError", "Limits", "Moment", "Session", "SessionBusy", "SessionError",
           "SessionStore",
           "TooManySessions", "to_query", "validate"]
