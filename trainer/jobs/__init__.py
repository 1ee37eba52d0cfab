"""Jobs: the queue on disk, the worker process each job runs in, process liveness and locks."""
