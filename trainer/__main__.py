"""`python -m trainer ...`: see trainer/cli.py."""

from trainer.cli import main

raise SystemExit(main())
