"""Looking into a finished run: the embedding map and its vectors, projections, label issues, corrections."""
