"""Monitors: a named, owned stream of new text tied to a finished run, stored in DuckDB, alerting as it grows.

`store` (the DuckDB file of one monitor: its settings, batches, scored rows and alerts, written in one
transaction per batch), `monitor` (create, open, list, delete; add a batch: dedupe by row key, score the
new rows, test the buckets the batch touched, notify), `notify` (the webhook).
"""
