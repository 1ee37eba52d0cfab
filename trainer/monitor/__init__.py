"""Monitors: a named, owned stream of new text tied to a finished run, stored in DuckDB, alerting as it grows.

`monitor` (create, open, list, delete; the orchestration of a batch: dedupe by row key, score the new rows
or take the service's results, store them, test the buckets the batch touched, apply retention, notify;
rescore with another run and switch to it), `database` (the DuckDB file of one monitor and every query and
write on it, one transaction per batch), `statistics` (no SQL: due buckets, moments from the rows' label
probabilities, the alert rule at each look's level, the confidence drift), `reading` (what the Monitors
page and the command line read besides counts and alerts), `rows` (a file read in chunks under the file
limits, row keys, dates), `scorers` (a run's model or an Apply scoring's results, a chunk at a time),
`notify` (the one way to the webhook: an address's refusal, the alerts' message), `webhook` (the
outbound-URL guard: where a webhook may go, and the one call that goes there), `naming` (a free monitor
name).
"""
