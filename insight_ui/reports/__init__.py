"""The two self-contained reports: a run's (Markdown and HTML) and a scoring's (HTML)."""
