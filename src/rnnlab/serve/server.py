"""Run the app with uvicorn: in the foreground (``rnnlab serve``) or on a background thread.

:func:`running_server` starts a real server on a real socket in a thread of this process and
stops it on leaving the block — what tests and ``benchmarks/bench_serve.py`` use to talk to
the service exactly as a client would.
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
import time
from collections.abc import Iterator
from typing import Any

from rnnlab.errors import MissingDependencyError

__all__ = ["is_loopback", "running_server", "serve"]


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError(
            "rnnlab serve needs FastAPI and uvicorn; install them with pip install 'rnnlab[serve]'."
        ) from None
    return uvicorn


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only: ``localhost`` or a loopback
    address (127.0.0.0/8, ::1). Any other name or address may be reachable from others."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def serve(app: Any, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Serve ``app`` until interrupted (Ctrl-C)."""
    uvicorn = _uvicorn()
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


@contextlib.contextmanager
def running_server(
    app: Any, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0
) -> Iterator[str]:
    """Serve ``app`` on a thread; yields the base URL (``port=0`` picks a free port)."""
    uvicorn = _uvicorn()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="rnnlab-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the server did not start on {host}:{port} within {timeout} s")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout)
