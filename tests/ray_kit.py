"""A Ray cluster of several nodes on this machine (ray.cluster_utils.Cluster), for the tests of Insight on
a cluster: started on 127.0.0.1 with one CPU per node, telemetry and the dashboard off, stopped after."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
# Ray swaps 127.0.0.1 for the machine's own network address when it connects, and this machine (its sandbox)
# refuses connections to that address from itself: Ray's switch for single-machine clusters keeps every node
# and driver on the loopback address. Set on import, before Ray reads it; children of the tests inherit it.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

NODE = {"num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"}


@contextlib.contextmanager
def local_cluster(nodes: int = 2) -> Iterator[Any]:
    """A head and `nodes - 1` workers, one CPU each; `cluster.worker_nodes` are the nodes a test may kill."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args=dict(NODE))
    try:
        for _ in range(nodes - 1):
            cluster.add_node(**NODE)
        cluster.wait_for_nodes(timeout=60)
        yield cluster
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
