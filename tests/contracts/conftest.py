"""Fixtures of the contract behaviour tests: the scenario's chain at each named stage.

See `tests/contracts/scenario.py` for the stages; each fixture reverts the session's chain to the
stage's snapshot (building it the first time), so tests are isolated from each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.contracts.scenario import STAGES, Chain


@pytest.fixture(scope="session")
def deployed() -> Chain:
    """The session's chain with both contracts deployed (no configuration yet)."""
    return Chain()


def _stage_fixture(stage: str) -> Callable[[Chain], Iterator[Chain]]:
    def fixture(deployed: Chain) -> Iterator[Chain]:
        yield deployed.at(stage)

    fixture.__doc__ = f"The chain at stage {stage!r}: {STAGES[stage][1].__doc__}"
    return fixture


base = pytest.fixture(_stage_fixture("base"), name="base")
members = pytest.fixture(_stage_fixture("members"), name="members")
open_round = pytest.fixture(_stage_fixture("open"), name="open_round")
committed = pytest.fixture(_stage_fixture("committed"), name="committed")
revealed = pytest.fixture(_stage_fixture("revealed"), name="revealed")
finalized = pytest.fixture(_stage_fixture("finalized"), name="finalized")
claimable = pytest.fixture(_stage_fixture("claimable"), name="claimable")
