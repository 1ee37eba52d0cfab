"""Developer tools that are not part of the app: the message catalogue check (`python -m tools.i18n_catalogue`)."""
