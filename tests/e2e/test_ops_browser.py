"""The operations centre in a real browser (Debian's Chromium, headless, driven by
Playwright), as an officer and an auditor would use it, with alerts coming from Kafka."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from engine.broker import read_to_end
from engine.ops.auth import add_user
from engine.ops.store import Store
from engine.settings import Settings
from engine.supervise import stop_worker
from engine.up import start_ops
from schemas import Outcome
from tests.conftest import fresh_settings
from tests.ops.conftest import make_alert, wait_until_serving

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the network flags Chromium keeps trying to reach Google, which this machine refuses.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "a long browser password"


@pytest.fixture
def ops_url(kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    """`gatehound ops` as `gatehound up` starts it, on fresh topics, with an officer and
    an auditor account; yields the settings and its URL."""
    settings = fresh_settings(kafka_bootstrap)
    proc, _supervisor_password = start_ops(settings, tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'ops.db'}", upgrade=False)
    add_user(store, "olive", "officer", PASSWORD)
    add_user(store, "audrey", "auditor", PASSWORD)
    store.close()
    url = f"http://127.0.0.1:{proc.metrics_port}"
    try:
        wait_until_serving(url, proc)
        yield settings, url
    finally:
        stop_worker(proc, timeout_s=10)


async def _produce_alert(settings: Settings, value: bytes, key: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(settings.topics.name("alerts"), value, key=key)
    finally:
        await producer.stop()


def test_an_officer_works_an_alert_from_the_live_feed_to_its_outcome(ops_url: tuple[Settings, str]) -> None:
    """Log in; an alert produced into Kafka appears in the open live feed within 2 s;
    open it; personal data is masked and refused without a purpose, shown with one, and
    the reveal is in the audit log; the recorded outcome is on the outcomes topic."""
    from playwright.sync_api import expect, sync_playwright

    settings, url = ops_url
    alert = make_alert(7, surname="Quixotic")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{url}/")
            expect(page).to_have_url(f"{url}/login?next=/")
            page.fill("input[name=name]", "olive")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_contain_text("Live feed")
            expect(page.locator("#live")).to_have_text("live")

            # Playwright's sync API holds this thread's event loop: produce from another thread.
            with ThreadPoolExecutor(1) as pool:
                pool.submit(
                    asyncio.run,
                    _produce_alert(settings, alert.model_dump_json().encode(), alert.alert_id.encode()),
                ).result()
            produced = time.monotonic()
            row = page.locator(f"#feed a:text('{alert.alert_id[:28]}')")
            row.wait_for(timeout=2_000)
            assert time.monotonic() - produced < 2.0

            row.click()
            expect(page.locator("#explanation")).to_contain_text("Late cash booking")
            event = page.locator("#event")
            expect(event).not_to_contain_text("Quixotic")
            expect(event).to_contain_text("•••")

            # Take the case (officers see personal data on their own cases), then reveal.
            # htmx posts the form and swaps the page in place: the page is not reloaded.
            page.evaluate("window.stayed = true")
            page.select_option("select[name=action]", "take")
            page.click("form[action^='/cases/'] button")
            expect(page.locator("#case-status")).to_have_text("assigned")
            assert page.evaluate("window.stayed === true")
            page.click("#reveal button")  # no purpose
            expect(page.locator("p.error")).to_contain_text("purpose")
            expect(page.locator("#event")).not_to_contain_text("Quixotic")
            page.fill("#reveal input[name=purpose]", "preparing the examination at arrival")
            page.click("#reveal button")
            expect(page.locator("#event")).to_contain_text("Quixotic")

            page.select_option("#outcome select[name=result]", "seizure")
            page.fill("#outcome input[name=goods]", "cocaine")
            page.fill("#outcome input[name=quantity]", "1.5")
            page.fill("#outcome input[name=unit]", "kg")
            page.click("#outcome button")
            expect(page.locator("#outcome")).to_contain_text("seizure")

            page.click("form.who button")  # log out; the auditor finds the reveal
            page.fill("input[name=name]", "audrey")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{url}/oversight/audit")
            expect(page.locator("#chain")).to_contain_text("whole")
            reveal = page.locator("tr", has_text="preparing the examination at arrival")
            expect(reveal).to_contain_text("reveal")
            expect(reveal).to_contain_text(alert.alert_id[:20])
            assert "Quixotic" not in page.content()  # the audit log holds no personal data
        finally:
            browser.close()

    records = asyncio.run(read_to_end(settings.kafka.bootstrap_servers, settings.topics.name("outcomes")))
    outcomes = [Outcome.model_validate_json(r.value) for r in records]
    assert [(o.alert_id, o.result, o.seizures[0].goods) for o in outcomes] == [
        (alert.alert_id, "seizure", "cocaine")
    ]
