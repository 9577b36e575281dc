"""One error shape for every 4xx: {"error": {"message": ..., "field": ...}}."""

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException


def error_response(status: int, message: str, field: str | None = None):
    response = jsonify({"error": {"message": message, "field": field}})
    response.status_code = status
    return response


def install_handlers(bp) -> None:
    @bp.app_errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code == 413:
            limit = current_app.config["MAX_CONTENT_LENGTH"]
            return error_response(413, f"The upload is too large: at most {limit // 1000:,} KB", "file")
        messages = {404: "Not found", 405: "Method not allowed"}
        return error_response(e.code or 500, messages.get(e.code, e.description or e.name), None)


__all__ = ["Flask", "error_response", "install_handlers"]
