"""The loaded run the routes answer with: its model, trust thresholds, the pass gatherer (concurrent
requests gathered into one forward pass), the Prometheus metrics and the monitor feed.

A text that breaks a forward pass fails its own request only (the gatherer answers the others alone)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from trainer.serve.passes import PassGatherer
from trainer.serve.settings import ServeConfig

# how concurrent requests are gathered into forward passes, by ServeConfig.batching; trainer.serve.on_ray adds
# "ray" (Ray Serve's batching) when a replica of `serve --ray` imports it
GATHERERS: dict[str, type] = {"local": PassGatherer}


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "insight_requests", "Requests answered", ["endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram("insight_request_seconds", "Time to answer a request", ["endpoint"],
                                 registry=self.registry)  # fmt: skip
        # the metric keeps its name (a contract with dashboards): it counts the texts of each forward pass
        self.pass_texts = Histogram("insight_batch_size", "Texts per forward pass", registry=self.registry,
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))  # fmt: skip
        self.labels = Counter(
            "insight_predicted", "Texts predicted, by label", ["label"], registry=self.registry
        )
        self.texts = Counter("insight_texts", "Texts predicted", registry=self.registry)
        self.monitor_rows = Counter(
            "insight_monitor_rows", "Served texts stored in the monitor", registry=self.registry
        )
        self.monitor_errors = Counter("insight_monitor_write_errors", "Monitor writes that failed (retried)",
                                      registry=self.registry)  # fmt: skip


class Service:
    """The loaded run: its model, trust thresholds and pass gatherer; what /predict and /explain compute."""

    def __init__(self, config: ServeConfig) -> None:
        from trainer.runs import load_run
        from trainer.runs.predictor import RunModel
        from trainer.runs.trust import calibrate
        from trainer.runs.variants import variant_view

        self.config = config
        self.run = load_run(Path(config.run))
        self.model = RunModel.load(Path(config.run), device=config.device, variant=config.variant)
        self.task = self.model.adapter
        self.trust = calibrate(self.model, variant_view(self.run, config.variant))
        weights = self.run.folder.weights_file
        self.checksum = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else None
        self.metrics = Metrics()
        gatherer = GATHERERS[config.batching]
        self.passes = gatherer(
            self._forward, config.max_pass_texts, config.max_wait_ms, self.metrics.pass_texts.observe
        )
        self.explain_lock = threading.Lock()
        self.feed = None

    async def start(self) -> None:
        """Start gathering passes and, with a monitor, the thread that writes served texts into it."""
        await self.passes.start()
        if self.config.monitor:
            from trainer.serve.feed import MonitorFeed

            self.feed = MonitorFeed(Path(self.config.runs_dir), self.config.monitor, self)
            self.feed.start()

    async def stop(self) -> None:
        await self.passes.stop()
        if self.feed:
            self.feed.stop()

    def info(self) -> dict:
        return {"run": self.run.path.name, "name": self.run.info.name, "task": self.task.cli_name,
                "labels": list(self.model.labels), "model_sha256": self.checksum,
                "precision": self.model.precision or "float32", "device": str(self.model.model.device),
                "variant": self.model.variant, "engine": self.model.engine,
                "max_batch": self.config.max_pass_texts, "max_inputs": self.config.max_inputs,
                "max_chars": self.config.max_chars}  # fmt: skip

    def _forward(self, texts: list[str]) -> list[dict]:
        """One forward pass over `texts`: per text its answer in the pipeline's shape, and trusted."""
        scored = self.model.score(texts, self.trust, batch_size=max(1, len(texts)))
        probs = scored.probabilities
        return [{"answer": answer, "trusted": not bool(scored.untrusted[i]), "label": scored.labels[i],
                 "confidence": float(scored.confidence[i]),
                 "probs": [float(p) for p in probs[i]] if probs is not None else None}
                for i, answer in enumerate(scored.answers())]  # fmt: skip

    def count(self, results: list[dict]) -> None:
        """The predicted texts in the metrics, by label."""
        for result in results:
            self.metrics.labels.labels(result["label"]).inc()
        self.metrics.texts.inc(len(results))

    def explain(self, text: str, target: str | None) -> list[dict]:
        items, words = self.task.explain_plan([self.task.read_input(text)], self.model.predict)
        with self.explain_lock:
            found = self.task.explain(self.model.gradient_model, self.model.tokenizer, self.model.labels, items,
                                      [target] * len(items), words, max_length=self.model.max_length)  # fmt: skip
        return [e.to_record() for e in found]
