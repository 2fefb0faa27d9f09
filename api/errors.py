"""Every error the API gives is JSON `{"error": code, "message": text}`, never a traceback.

`ApiError` is raised by handlers and the ASGI middleware; `install_handlers` makes FastAPI's own
errors (validation, 404/405 routing) answer in the same shape, and adds the last-resort handler
that logs an unexpected exception and answers a bare 500 (the tests prove it never fires).
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger("runlake.api")

#: Codes of FastAPI's own HTTP errors (routing), in our vocabulary.
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


class ApiError(Exception):
    """An answer other than 200: status, machine-readable code, one human sentence."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": code, "message": message}).encode()


def error_response(error: ApiError) -> Response:
    return Response(error_body(error.code, error.message), status_code=error.status,
                    headers=error.headers, media_type="application/json")


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)


def _describe(exc: RequestValidationError) -> str:
    """One sentence naming each refused parameter, without echoing its value."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path", "header"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return error_response(invalid(_describe(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = "no such path" if exc.status_code == 404 else str(exc.detail)
        return error_response(ApiError(exc.status_code, code, message, dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return error_response(ApiError(500, "internal_error", "the server could not answer this request"))
