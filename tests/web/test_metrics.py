"""``/metrics`` in Prometheus' text format: process counters and the store's shared figures."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.web.conftest import LiveServer


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_messages_and_read_the_backlog(live: LiveServer) -> None:
    before = samples((await live.client.get("/metrics")).text)
    key = ("helpline_messages_in_total", (("channel", "webchat"),))
    await live.client.post("/api/chat/messages", json={"session_id": "m", "message_id": "1", "text": "hello"})
    await live.client.post("/api/chat/messages", json={"session_id": "m", "message_id": "1", "text": "hello"})

    response = await live.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)
    assert after[key] == before.get(key, 0) + 1
    assert after[("helpline_duplicates_in_total", (("channel", "webchat"),))] >= 1
    assert ("helpline_outbox_pending", ()) in after
    assert after[("helpline_engine_seconds_count", ())] >= 1
    assert re.search(r"^helpline_turn_seconds_bucket", response.text, re.M)
