"""Bearer tokens on writes (and on reads when closed), and a limit on request bodies."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from api.http.errors import ApiError, error_response
from engine import TempologError


@dataclass(frozen=True)
class Settings:
    """What `tempolog serve` configures beside the store and the rules."""

    token: str | None = None
    private_reads: bool = False  # reads need the token too
    max_body: int = 1 << 20  # bytes of a request body
    max_query: int = 10_000  # characters of a query or fact text
    default_timeout: float = 5.0  # seconds a query may run when it does not say
    max_timeout: float = 30.0

    @staticmethod
    def token_from(path: Path | None) -> str | None:
        if path is None:
            return None
        token = Path(path).read_text().strip()
        if not token:
            raise TempologError(f"{path} is empty: put the token in it", code="usage")
        return token


def _check(request: Request, settings: Settings) -> None:
    if settings.token is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    # compare_digest takes the same time however much of the token matches.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), settings.token.encode()):
        raise ApiError(401, "unauthorized", "this needs `Authorization: Bearer <token>` with "
                       "the token of the server's --token-file")


# Coroutines, though they never wait: FastAPI runs a plain function dependency in a thread,
# a hop (two thread switches) on every request for a check of microseconds.
async def require_write(request: Request) -> None:
    _check(request, request.app.state.settings)


async def require_read(request: Request) -> None:
    settings = request.app.state.settings
    if settings.private_reads:
        _check(request, settings)


class BodyLimit:
    """ASGI middleware: a body longer than `limit` bytes gets 413, whether it says its length
    or streams it in chunks; counts the requests in `state.requests` on the way."""

    def __init__(self, app, limit: int, state):
        self.app, self.limit, self.state = app, limit, state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.state.requests += 1
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._refuse(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        response = error_response(413, "too-large",
                                  f"the request body is over the limit of {self.limit:,} bytes")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class JsonBodies:
    """ASGI middleware: every body is read as the JSON it must be, whatever type it is sent
    as. No endpoint takes anything else, and `curl -d '{…}'`, the way the docs and most
    users send one, labels it a form: FastAPI would refuse it as "not an object"."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = scope.get("headers") or []
            given = next((v for k, v in headers if k == b"content-type"), b"")
            kind = given.split(b";")[0].strip().lower()
            if kind != b"application/json" and not kind.endswith(b"+json"):
                scope = {**scope, "headers": [*((k, v) for k, v in headers
                                                if k != b"content-type"),
                                              (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)
