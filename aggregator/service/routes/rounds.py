"""Rounds: the list, one round with its verified report, its models, and every rejection."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from aggregator.service.deps import Context
from aggregator.service.schemas import RejectionOut, RoundDetail, RoundSummary

router = APIRouter(prefix="/api", tags=["rounds"])

RoundNumber = Annotated[int, Path(ge=0, le=2**64 - 1, description="round number")]


@router.get("/rounds", response_model=list[RoundSummary])
def list_rounds(context: Context) -> list[RoundSummary]:
    """Every opened round, oldest first, with the validation metrics of its report."""
    return context.view.rounds()


@router.get("/rounds/{round}", response_model=RoundDetail,
            responses={404: {"description": "round never opened"},
                       502: {"description": "the stored report does not match reportHash"}})
def get_round(context: Context, round: RoundNumber) -> RoundDetail:
    """One round and its report, fetched from the store and checked against reportHash."""
    return context.view.round_detail(round)


@router.get("/rounds/{round}/model",
            response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "model bytes (fedledger-model/1 safetensors)"},
                       404: {"description": "round never opened"},
                       409: {"description": "round not finalized (for which=new)"},
                       502: {"description": "the stored model does not match its hash"}})
def download_model(
    context: Context,
    round: RoundNumber,
    which: Annotated[Literal["new", "base"], Query(
        description="'new': the model the round produced; 'base': the one it started from")
    ] = "new",
) -> Response:
    """The global model of a round, its bytes verified against the hash on chain."""
    model = context.view.model(round, which)
    return Response(
        content=model.data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="round-{round}-{which}.safetensors"',
            "X-Model-CID": model.cid,
            "X-Model-Keccak256": "0x" + model.model_hash.hex(),
        },
    )


@router.get("/rejections", response_model=list[RejectionOut])
def list_rejections(context: Context) -> list[RejectionOut]:
    """Every rejected update of every finalized round (newest round first), with the reason."""
    return context.view.rejections()
