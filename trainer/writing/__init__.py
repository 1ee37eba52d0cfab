"""The writing systems of the data: which scripts a text or a vocabulary is written in (scripts)."""
