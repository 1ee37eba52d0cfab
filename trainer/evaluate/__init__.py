"""Scores of a run: metrics, bootstrap intervals, the predictions table, runs compared."""
