"""`create_app(context)`: the FastAPI app of one aggregator service, and nothing else.

It includes the routers, mounts the dashboard's static files, installs the body
guard, maps fedledger's exceptions to HTTP answers that say what went wrong, and
starts/stops the round loop in the app's lifespan (when the settings ask for it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from aggregator.orchestrator import RoundStateError
from aggregator.service.context import ServiceContext
from aggregator.service.ledger_view import RoundNotFinalized, RoundNotFound
from aggregator.service.limits import BodyGuardMiddleware
from aggregator.service.routes import ROUTERS
from ledger.errors import ChainError, FedLedgerError, FormatError, IntegrityError, StoreError

STATIC_DIR = Path(__file__).parent / "static"

#: fedledger exception -> (status, prefix of the message). First match wins (subclasses first).
_ERROR_STATUS: tuple[tuple[type[FedLedgerError], int, str], ...] = (
    (RoundNotFound, status.HTTP_404_NOT_FOUND, ""),
    (RoundNotFinalized, status.HTTP_409_CONFLICT, ""),
    (RoundStateError, status.HTTP_409_CONFLICT, ""),
    (IntegrityError, status.HTTP_502_BAD_GATEWAY, "content does not match the chain: "),
    (FormatError, status.HTTP_502_BAD_GATEWAY, "stored content is malformed: "),
    (StoreError, status.HTTP_503_SERVICE_UNAVAILABLE, "content store unavailable: "),
    (ChainError, status.HTTP_503_SERVICE_UNAVAILABLE, "chain unavailable: "),
)


def _error_response(request: Request, exc: Exception) -> JSONResponse:
    for kind, code, prefix in _ERROR_STATUS:
        if isinstance(exc, kind):
            return JSONResponse({"detail": f"{prefix}{exc}"}, status_code=code)
    return JSONResponse({"detail": f"{type(exc).__name__}: {exc}"},
                        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)


def create_app(context: ServiceContext) -> FastAPI:
    """The aggregator service app; the round loop runs while the app does if `run_loop`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if context.settings.run_loop:
            context.loop.start()
        try:
            yield
        finally:
            context.loop.stop()

    app = FastAPI(
        title="fedledger aggregator",
        summary="Rounds, verified reports, participants, rewards and models of one network.",
        description=(
            "Read-only views of a fedledger network as its aggregator runs it. Every report "
            "and model served is checked against the hash recorded on chain. Admin routes "
            "need `Authorization: Bearer <token>`."
        ),
        version="1",
        lifespan=lifespan,
    )
    app.state.context = context
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(FedLedgerError, _error_response)
    app.add_middleware(BodyGuardMiddleware, max_body_bytes=context.settings.max_body_bytes,
                       max_json_depth=context.settings.max_json_depth)
    return app
