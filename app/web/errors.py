"""Kept for compare.py's import only; the error shape and handlers live in helpers.py."""

from .helpers import error_response

__all__ = ["error_response"]
