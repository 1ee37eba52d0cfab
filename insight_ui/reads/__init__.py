"""Cached reads for the pages: calls into trainer/ shaped for display (data checks, a run's analysis, explanations)."""
