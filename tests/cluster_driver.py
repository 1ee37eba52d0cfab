"""A scoring on the Ray cluster in a process of its own, for tests/test_apply_cluster.py (why a child:
tests/ray_kit.py). Prints one JSON line: the results run_scoring returned and the phases it said.

    python tests/cluster_driver.py score RUN SOURCE NAME ADDRESS CHUNK_ROWS COLUMNS_JSON [STOP_AFTER_PARTS]
    python tests/cluster_driver.py monitor RUNS_DIR NAME SOURCE   (INSIGHT_RAY_ADDRESS set: add, then rescore)
    python tests/cluster_driver.py replicas ADDRESS APP           (the Ray Serve application's running replicas)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def score(run_dir: str, source: str, name: str, address: str, chunk_rows: str, columns: str,
          stop_after: str | None = None) -> dict:  # fmt: skip
    from trainer.apply.run_scoring import run_scoring
    from trainer.runs import load_run
    from trainer.runs.predictor import RunModel
    from trainer.runs.scoring import Scoring, Spec

    scoring = Scoring(Path(run_dir), name)
    scoring.write_spec(Spec(source, chunk_rows=int(chunk_rows), **json.loads(columns)))
    parts = scoring.parts_dir
    stop = (lambda: len(list(parts.glob("part-*.csv"))) >= int(stop_after)) if stop_after else None
    phases = []
    results = run_scoring(RunModel.load(Path(run_dir)), load_run(Path(run_dir)), scoring, None, stop,
                          phases.append, cluster=address)  # fmt: skip
    return {"results": results, "phases": [{"message": p.message, "values": p.values} for p in phases]}


def monitor(runs_dir: str, name: str, source: str) -> dict:
    from trainer.monitor import monitor as monitors

    found = monitors.Monitor(Path(runs_dir), name)
    added = found.add(Path(source)).added
    return {"added": added, "rescored": found.rescore(found.settings.run)}


def replicas(address: str, app: str) -> dict:
    import ray
    from ray import serve

    ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    status = serve.status().applications.get(app)
    if status is None:
        return {"running": 0}
    states = status.deployments["service"].replica_states
    return {"running": int(states.get("RUNNING", 0))}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    action, *args = sys.argv[1:]
    done = {"score": score, "monitor": monitor, "replicas": replicas}[action](*args)
    print("\n" + json.dumps(done, default=str), flush=True)
