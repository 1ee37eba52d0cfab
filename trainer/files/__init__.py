"""File machinery every room uses: atomic JSON writes and folder swaps (atomic), file locks and process liveness (locks).

It knows nothing of runs, monitors or people."""
