"""What ``kenett status`` calls a problem (operations; no rule number)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.contracts.status import InstanceStatus, ServiceHealth


def _instance(*services: ServiceHealth) -> InstanceStatus:
    return InstanceStatus(
        instance="h:1",
        host="h",
        pid=1,
        version="0.1.0",
        org="lund",
        started_at=datetime(2026, 12, 6, tzinfo=UTC),
        services=list(services),
    )


def test_a_backlog_is_a_problem_only_once_its_oldest_event_has_waited_too_long() -> None:
    fresh = ServiceHealth(name="intake", database="ok", outbox_backlog=40, oldest_unpublished_s=2)
    assert _instance(fresh).problems(60) == []
    stuck = fresh.model_copy(update={"oldest_unpublished_s": 75.4})
    assert _instance(stuck).problems(60) == [
        "intake on h:1: 40 events not published, the oldest for 75 s"
    ]


def test_a_consumer_that_stopped_fetching_is_a_problem() -> None:
    planning = ServiceHealth(
        name="planning", database="ok", outbox_backlog=0, consumers=6, consumers_declared=7
    )
    assert _instance(planning).problems(60) == [
        "planning on h:1: 6 of 7 event consumers are fetching"
    ]


def test_a_consumer_whose_fetches_keep_failing_is_named_with_the_error() -> None:
    planning = ServiceHealth(
        name="planning",
        database="ok",
        outbox_backlog=0,
        consumers=6,
        consumers_declared=7,
        consumers_failing={"planning-consent-recorded": "4× NotFoundError"},
    )
    assert _instance(planning).problems(60) == [
        "planning on h:1: 6 of 7 event consumers are fetching; "
        "planning-consent-recorded: fetch failing (4× NotFoundError)"
    ]
