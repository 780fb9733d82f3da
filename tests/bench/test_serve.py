"""The bench's gateway processes: when each of them is up."""

from __future__ import annotations

import os
import socket

from bench._serve import free_port, listening


def test_a_process_listens_once_its_socket_listens() -> None:
    """A process counts as listening on a port only once it holds a listening socket on it: bound is not
    enough (a gateway process sharing its node's port binds before it is ready)."""
    port = free_port()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        bound = listening(os.getpid(), port)
        sock.listen()
        assert (bound, listening(os.getpid(), port)) == (False, True)
    assert not listening(os.getpid(), port)
