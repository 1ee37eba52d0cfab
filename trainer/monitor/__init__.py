"""Monitors: a named, owned stream of new text tied to a finished run, stored in DuckDB, alerting as it grows.

`store` (the DuckDB file of one monitor: its settings, batches, scored rows and alerts, written in one
transaction per batch), `monitor` (create, open, list, delete; add a batch: dedupe by row key, score the
new rows, test the buckets the batch touched, notify), `rows` (a file read in chunks under the file
limits, row keys, dates), `notify` (the webhook's message), `webhook` (the outbound-URL guard: where a
webhook may go, and the one call that goes there).
"""
