"""Oversight that runs by itself: the audit chain checked, and the fairness figures and
misuse signals exported as metrics, every minute, for the alert rules in deploy/prometheus."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from engine.logs import get_logger
from engine.ops.store import Store, utcnow
from engine.oversight.audit import records_after
from engine.oversight.fairness import export_fairness_metrics, fairness_report, last_days
from engine.oversight.misuse import export_misuse_metrics, misuse_signals
from engine.settings import Settings

log = get_logger(__name__)


async def oversee(
    store: Store, settings: Settings, check_chain: Callable[[], object], every_s: float = 60.0
) -> None:
    """Every minute, whether or not anyone has the pages open: check the audit chain, and
    export the fairness figures of the last 30 days and the misuse signals of the last 7
    as metrics, for the alert rules in deploy/prometheus."""

    def look() -> None:
        check_chain()
        since, until = last_days(store, 30)
        export_fairness_metrics(
            fairness_report(
                store,
                since,
                until,
                band=settings.ops.fairness_band,
                min_traffic=settings.ops.fairness_min_traffic,
            )
        )
        now = utcnow()
        records = records_after(store, -1, since=now - timedelta(days=7))
        export_misuse_metrics(
            misuse_signals(records, settings.ops.shift_hours, settings.ops.reveals_per_hour, now)
        )

    while True:
        try:
            await asyncio.to_thread(look)
        except Exception as exc:  # a store that is away: say so and look again later
            log.warning("ops.oversight.failed", error=type(exc).__name__)
        await asyncio.sleep(every_s)
