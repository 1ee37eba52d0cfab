"""A Ray cluster of several nodes on this machine (ray.cluster_utils.Cluster), for the tests of Insight on
a cluster: started on 127.0.0.1 with one CPU per node, telemetry and the dashboard off, stopped after.

Neither the cluster nor a driver ever lives in the test runner's process. Ray's node code installs a SIGTERM
handler that exits the process, and a driver exits at once (no output, status 1) when its node dies: in
pytest's own process either ends the whole test session silently. So the cluster runs in a child process
of its own (this file run as a script, taking `add` and `kill N` on its stdin), and each test scores
through a child driver (tests/cluster_driver.py, the command line, or a job)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
# Ray swaps 127.0.0.1 for the machine's own network address when it connects, and this machine (its sandbox)
# refuses connections to that address from itself: Ray's switch for single-machine clusters keeps every node
# and driver on the loopback address. Set on import, before Ray reads it; children of the tests inherit it.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

NODE = {"num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"}
START_SECONDS = 120


class LocalCluster:
    """The child process that holds the cluster: `address`, `add_node()`, `kill_node(index)`."""

    def __init__(self, nodes: int) -> None:
        self.child = subprocess.Popen(
            [sys.executable, __file__, str(nodes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        self.address = self._answer()["address"]

    def _answer(self) -> dict:
        """The child's next answer (a JSON line; anything else Ray prints is passed over)."""
        for line in self.child.stdout:
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"the local Ray cluster's process ended (status {self.child.wait(30)})")

    def _ask(self, command: str) -> dict:
        self.child.stdin.write(command + "\n")
        self.child.stdin.flush()
        return self._answer()

    def add_node(self) -> int:
        """A further node, alive when this returns; its index for kill_node."""
        return self._ask("add")["added"]

    def kill_node(self, index: int) -> None:
        """The node's processes killed at once, as a machine lost."""
        self._ask(f"kill {index}")

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.child.stdin.close()
        try:
            self.child.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.child.pid, signal.SIGKILL)
            self.child.wait(30)


@contextlib.contextmanager
def local_cluster(nodes: int = 2) -> Iterator[LocalCluster]:
    """A head and `nodes - 1` workers, one CPU each, in a process of their own; stopped after."""
    cluster = LocalCluster(nodes)
    try:
        yield cluster
    finally:
        cluster.close()


def _serve(nodes: int) -> None:
    """The child: start the cluster, say its address, then add or kill nodes as asked until stdin closes."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args=dict(NODE))
    added = []
    try:
        for _ in range(nodes - 1):
            cluster.add_node(**NODE)
        cluster.wait_for_nodes(timeout=START_SECONDS)
        print(json.dumps({"address": cluster.address}), flush=True)
        for line in sys.stdin:
            command = line.split()
            if command == ["add"]:
                added.append(cluster.add_node(**NODE))
                cluster.wait_for_nodes(timeout=START_SECONDS)
                print(json.dumps({"added": len(added) - 1}), flush=True)
            elif command[:1] == ["kill"]:
                cluster.remove_node(added[int(command[1])], allow_graceful=False)
                print(json.dumps({"killed": int(command[1])}), flush=True)
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    _serve(int(sys.argv[1]))
