"""Serve a trained model: an HTTP API with micro-batching, and a web page.

>>> import rnnlab
>>> from rnnlab.serve import create_app, serve
>>> serve(create_app(rnnlab.load("runs/imdb"), run="runs/imdb"), port=8000)

Needs FastAPI and uvicorn: ``pip install "rnnlab[serve]"``.
"""

from rnnlab.serve.app import ServeConfig, create_app
from rnnlab.serve.server import running_server, serve

__all__ = ["ServeConfig", "create_app", "running_server", "serve"]
