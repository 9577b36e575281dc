"""One error shape for every 4xx: {"error": {"message": ..., "field": ...}}."""

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException


def error_response(status: int, message: str, field: str | None = None):
    response = jsonify({"error": {"message": message, "field": field}})
    response.status_code = status
    return response


def install_handlers(bp) -> None:
    @bp.app_errorhandler(HTTPException)
    def http_error(e: HTTPException):
        messages = {413: "The upload is too large", 404: "Not found",
                    405: "Method not allowed"}
        return error_response(e.code or 500, messages.get(e.code, e.description or e.name), None)


__all__ = ["Flask", "error_response", "install_handlers"]
