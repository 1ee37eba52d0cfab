"""A finished run behind an HTTP API (FastAPI on uvicorn): predict, explain, health, info, metrics."""
