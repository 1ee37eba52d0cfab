"""Apply: scoring new text (trust, resumable parts), trends and alerts, the labelling round trip."""
