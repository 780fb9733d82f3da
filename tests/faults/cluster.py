"""Three RabbitMQ nodes of the tests' own, clustered on this machine (own names, ports and folders).

Each node is a :class:`tests.broker.own_node.OwnNode`; the second and third join the first. The machine's
broker is never touched. Start-up of the three takes about a minute.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass

from tests.broker.own_node import OwnNode


@dataclass
class LocalCluster:
    nodes: list[OwnNode]

    @classmethod
    def start(cls, size: int = 3) -> LocalCluster:
        cluster = cls([OwnNode.create() for _ in range(size)])
        try:
            for node in cluster.nodes:
                node.start()
            first = cluster.nodes[0]
            for node in cluster.nodes[1:]:
                node.stop_app()
                node.ctl("join_cluster", first.name)
                node.start_app()
        except BaseException:
            cluster.destroy()
            raise
        return cluster

    def by_name(self, name: str) -> OwnNode:
        return next(n for n in self.nodes if n.name == name)

    def os_pid(self, node: OwnNode) -> int:
        return int(node.ctl("eval", "os:getpid().").strip().strip('"'))

    def kill(self, node: OwnNode) -> None:
        """SIGKILL the node's Erlang VM: no shutdown, no goodbye to its peers."""
        os.kill(self.os_pid(node), signal.SIGKILL)

    def destroy(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                node.destroy()
