"""The dashboard in a real browser (Debian's headless Chromium driven by Playwright).

The service runs under uvicorn with its round loop thread; the page must show what the
chain and the verified reports say (rows, numbers, chart points), then update by itself
when the loop finalizes another round.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from aggregator.service.app import create_app
from ledger.formats.report import parse_report
from tests.aggregator.service.served import ServedNetwork

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
WAIT_MS = 60_000


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


class _Server:
    """uvicorn in a thread on a free port; stopping it runs the app's lifespan shutdown."""

    def __init__(self, app: object) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,  # type: ignore[arg-type]
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def test_dashboard_shows_the_finalized_round_and_refreshes_live(served: ServedNetwork,
                                                                browser_page: object) -> None:
    # Prepare
    page = browser_page
    registry = served.harness.network.registry
    ev = registry.events_round_finalized(round=0)[-1]
    report = parse_report(served.store.get_bytes(ev.report_cid))
    accuracy = report.validation_metrics["accuracy"] / 1e6
    loss = report.validation_metrics["loss"] / 1e6
    rider = served.harness.free_rider.address
    snapshot = served.chain.snapshot()
    context = served.new_context(rounds=2, run_loop=True, poll_seconds=0.1)
    try:
        with _Server(create_app(context)) as url:
            # Execute
            page.goto(f"{url}/dashboard?refresh=500")  # type: ignore[attr-defined]
            page.wait_for_selector("body[data-loaded=true]", timeout=WAIT_MS)  # type: ignore[attr-defined]
            rows = page.locator("#rounds-table tbody tr")  # type: ignore[attr-defined]
            first_rows = [[c.strip() for c in r.locator("td").all_inner_texts()]
                          for r in rows.all()]
            acc_points = page.locator("#metrics-chart circle.point.accuracy")  # type: ignore[attr-defined]
            loss_points = page.locator("#metrics-chart circle.point.loss")  # type: ignore[attr-defined]
            first_acc = [(p.get_attribute("data-round"), p.get_attribute("data-value"))
                         for p in acc_points.all()]
            first_loss = [p.get_attribute("data-value") for p in loss_points.all()]
            bars = {b.get_attribute("data-address"): b.get_attribute("data-tokens")
                    for b in page.locator("#rewards-chart rect.bar").all()}  # type: ignore[attr-defined]
            rejections = [[c.strip() for c in r.locator("td").all_inner_texts()]
                          for r in page.locator("#rejections-table tbody tr").all()]  # type: ignore[attr-defined]
            rejected_title = page.locator(  # type: ignore[attr-defined]
                "#rejections-table tbody tr td:nth-child(2)").first.get_attribute("title")
            board = [r.get_attribute("data-address")
                     for r in page.locator("#leaderboard-table tbody tr").all()]  # type: ignore[attr-defined]
            health = page.locator("#health").get_attribute("data-status")  # type: ignore[attr-defined]
            latest = page.locator("#latest-accuracy").inner_text()  # type: ignore[attr-defined]

            # Execute: move chain time past round 1's reveals; the loop finalizes it and
            # the open page must show it without a reload
            with context.gate:
                served.chain.mine(registry.round_info(1).reveal_deadline + 1)
            page.wait_for_selector(  # type: ignore[attr-defined]
                '#rounds-table tr[data-round="1"] td:nth-child(2):text-is("finalized")',
                timeout=WAIT_MS)
            page.wait_for_function(  # type: ignore[attr-defined]
                "document.querySelectorAll('#metrics-chart circle.point.accuracy').length === 2",
                timeout=WAIT_MS)
            later_acc = [p.get_attribute("data-round") for p in acc_points.all()]
    finally:
        context.loop.stop()
        served.chain.revert(snapshot)

    # Assert: what the user saw first
    assert health == "ok"
    assert first_rows == [
        ["1", "open", "–", "–", "–", "–", "0.00", "–"],
        ["0", "finalized", f"{accuracy * 100:.2f}%", f"{loss:.4f}", "2", "1", "1,000.00",
         ev.report_cid[:14] + "…"],
    ]
    assert latest == f"{accuracy * 100:.2f}%"
    assert first_acc == [("0", f"{accuracy * 100:.2f}")]
    assert first_loss == [f"{loss:.4f}"]
    assert bars == {address: f"{amount / 1e18:.2f}" for address, amount in served.claims.items()}
    assert bars[rider] == "0.00"
    assert rejections == [["0", rider[:6] + "…" + rider[-4:], "free_rider_zero",
                           "zero update: nothing learnt (free-rider)"]]
    assert rejected_title == rider
    assert board == [a for a, _ in sorted(served.claims.items(),
                                          key=lambda kv: (-kv[1], kv[0].lower()))]
    # ... and after the live refresh
    assert later_acc == ["0", "1"]
