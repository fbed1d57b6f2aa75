"""Catch-up's Prometheus metrics, on the service's registry. Recovered texts are the figure to
alert on: each one is a webhook that did not reach us."""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class CatchUpMetrics:
    texts_recovered: Counter
    statuses_recovered: Counter
    rejected: Counter
    failures: Counter
    checkpoint_age: Gauge
    numbers_failing: Gauge
    cycle_seconds: Histogram

    @classmethod
    def on(cls, registry: CollectorRegistry) -> "CatchUpMetrics":
        return cls(
            texts_recovered=Counter(
                "ingest_catch_up_texts_recovered",
                "Customer texts found through a carrier's API that no webhook had brought",
                ["carrier"],
                registry=registry,
            ),
            statuses_recovered=Counter(
                "ingest_catch_up_statuses_recovered",
                "Final statuses of sent texts fetched from a carrier's API (no callback came)",
                ["carrier"],
                registry=registry,
            ),
            rejected=Counter(
                "ingest_catch_up_rejected",
                "Listed texts recorded as rejected (to a number no longer the dealership's)",
                ["carrier"],
                registry=registry,
            ),
            failures=Counter(
                "ingest_catch_up_failures",
                "Catch-up attempts that failed, by kind: unavailable (429, 5xx, no answer),"
                " credentials_rejected, no_credentials, kafka, database",
                ["carrier", "kind"],
                registry=registry,
            ),
            checkpoint_age=Gauge(
                "ingest_catch_up_checkpoint_age_seconds",
                "Age of the oldest checkpoint among the carrier's numbers (how far behind catch-up is)",
                ["carrier"],
                registry=registry,
            ),
            numbers_failing=Gauge(
                "ingest_catch_up_numbers_failing",
                "Dealership numbers whose last catch-up failed (see last_catch_up_error in the"
                " carrier-webhook-credentials API)",
                ["carrier"],
                registry=registry,
            ),
            cycle_seconds=Histogram(
                "ingest_catch_up_cycle_seconds",
                "Duration of one catch-up cycle of one replica",
                registry=registry,
            ),
        )
