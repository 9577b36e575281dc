"""One error shape for every 4xx: {"error": {"message": ..., "field": ...}}."""

from flask import current_app, jsonify
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

    @bp.app_errorhandler(Exception)
    def unexpected(e: Exception):
        # A bug, not bad input: logged with its traceback, answered without one.
        current_app.logger.exception("unexpected error")
        return error_response(500, "Something went wrong on the server; the error was logged", None)
