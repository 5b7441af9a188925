"""Read GET /metrics (or a worker's metrics file) into samples a test can sum."""

from __future__ import annotations

from collections.abc import Iterable

import aiohttp
from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples_of(families: Iterable[Metric]) -> Samples:
    """Every sample of `families`, keyed by sample name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in families
        for sample in family.samples
    }


async def scrape(http: aiohttp.ClientSession, app_url: str, token: str) -> Samples:
    """The app's metrics, as its scraper would read them."""
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(f"{app_url}/metrics", headers=headers) as response:
        assert response.status == 200, await response.text()
        assert "Set-Cookie" not in response.headers, "/metrics never opens a session"
        return samples_of(text_string_to_metric_families(await response.text()))


def worker_file_samples(path: str) -> Samples:
    """The samples one worker wrote to its multiprocess file (counter_<pid>.db)."""
    return samples_of(MultiProcessCollector.merge([path]))  # type: ignore[no-untyped-call]


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and wanted <= sample_labels
    )


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the samples called `name` with `labels` grew between two scrapes."""
    return total(after, name, **labels) - total(before, name, **labels)


def counted(name: str, **labels: str) -> float:
    """The sum of this process's samples called `name` whose labels include `labels` (the
    in-process app's metrics, as prometheus-client's default registry holds them)."""
    return total(samples_of(REGISTRY.collect()), name, **labels)
