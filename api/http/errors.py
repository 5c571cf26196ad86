"""Every failure as a JSON body `{error: {code, message, diagnostics?}}` with its status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.http.models import ErrorBody
from engine import (
    BackendUnavailable,
    DiagnosticError,
    EventRejected,
    QueryError,
    QueryTimeout,
    RuleAnalysisError,
    RuleSyntaxError,
    TempologError,
)
from sim import ConcurrencyConflict, StoreCorrupted, StoreNotFound

log = logging.getLogger("tempolog.http")
EXAMPLE = '{"query": "p(x)"}'  # a body, for errors that say what one looks like

# Most specific first: the first class an error is an instance of gives its status.
STATUS = (
    (QueryTimeout, 504),
    (ConcurrencyConflict, 409),
    (EventRejected, 422),
    (DiagnosticError, 400),  # a query's syntax or analysis; rule sets are 422 (RulesInvalid)
    (QueryError, 400),
    (BackendUnavailable, 503),
    (StoreNotFound, 404),
    (StoreCorrupted, 500),
    (TempologError, 400),
)

STATUS_CODES = {400: "bad-request", 401: "unauthorized", 404: "not-found",
                405: "method-not-allowed", 409: "conflict", 413: "too-large",
                422: "invalid", 501: "not-implemented", 503: "unavailable", 504: "timeout"}


class ApiError(Exception):
    """An error the service raises itself, with its status and code."""

    def __init__(self, status: int, code: str, message: str, diagnostics=None):
        super().__init__(message)
        self.status, self.code, self.diagnostics = status, code, diagnostics


class RulesInvalid(ApiError):
    def __init__(self, error: RuleSyntaxError | RuleAnalysisError):
        super().__init__(422, "rules-invalid", f"the rule set has {len(error.errors)} "
                         "error(s); the rules in service are unchanged",
                         [d.to_dict() for d in error.diagnostics])


def body(code: str, message: str, diagnostics=None) -> dict:
    detail = {"code": code, "message": message}
    if diagnostics is not None:
        detail["diagnostics"] = diagnostics
    return {"error": detail}


def error_response(status: int, code: str, message: str, diagnostics=None,
                   headers=None) -> JSONResponse:
    return JSONResponse(body(code, message, diagnostics), status_code=status, headers=headers)


def status_of(error: TempologError) -> int:
    return next(status for kind, status in STATUS if isinstance(error, kind))


def install(app: FastAPI) -> None:
    """Register the handlers that keep every answer JSON and every traceback in the log."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, error: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return error_response(error.status, error.code, str(error), error.diagnostics, headers)

    @app.exception_handler(TempologError)
    async def _tempolog(request: Request, error: TempologError):
        diagnostics = None
        message = str(error)
        if isinstance(error, DiagnosticError):
            diagnostics = [d.to_dict() for d in error.diagnostics]
            message = error.errors[0].message
        elif getattr(error, "field", None) is not None:  # EventRejected names its event
            diagnostics = [{"code": error.code, "message": message,
                            "path": f"event {error.index}: {error.field}"}]
        return error_response(status_of(error), error.code, message, diagnostics)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError):
        errors = error.errors()
        if errors and errors[0].get("type") == "json_invalid":  # loc: ("body", offset)
            at, why = errors[0]["loc"][-1], (errors[0].get("ctx") or {}).get("error", "")
            return error_response(400, "bad-json", f"the body is not JSON: {why} at character "
                                  f"{at} (send an object such as {EXAMPLE})")
        if errors and tuple(errors[0]["loc"]) == ("body",) and errors[0].get("type") in (
                "model_attributes_type", "dict_type"):
            return error_response(400, "bad-json", "the body must be a JSON object, such as "
                                  f"{EXAMPLE}")
        diagnostics = [{"code": "invalid-field", "message": f"{_where(e['loc'])}: {e['msg']}",
                        "path": _where(e["loc"])} for e in errors]
        message = diagnostics[0]["message"] if diagnostics else "invalid request"
        return error_response(400, "bad-request", message, diagnostics)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException):
        code = STATUS_CODES.get(error.status_code, "error")
        return error_response(error.status_code, code, str(error.detail), headers=error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception):
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error; the server log has the details")


def _where(loc) -> str:
    """('body', 'events', 0, 'time') -> 'event 0: time'; other locations dotted."""
    parts = [str(p) for p in loc if p != "body"]
    if len(parts) >= 2 and parts[0] == "events" and parts[1].isdigit():
        return f"event {parts[1]}: " + ".".join(parts[2:]) if parts[2:] else f"event {parts[1]}"
    return ".".join(parts) or "body"


# Documented on every route, so the schema says what each error looks like.
ERRORS = {status: {"model": ErrorBody, "description": code}
          for status, code in STATUS_CODES.items() if status not in (405,)}


def responses(*statuses: int) -> dict:
    return {status: ERRORS[status] for status in statuses}
