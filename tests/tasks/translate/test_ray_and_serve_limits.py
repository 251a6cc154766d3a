"""Translation on Ray through the ``output_columns`` door (one actor's work, without a
cluster), and the server's beam limit set by ``ServeConfig.max_beam``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

import rnnlab
from rnnlab.errors import ConfigError

from .conftest import TEN_PAIRS


def test_an_actor_writes_the_translation_column(run):
    pd = pytest.importorskip("pandas", reason="Ray batches are pandas frames")
    from rnnlab.deploy.ray_predict import Labeller

    sources = [s for s, _ in TEN_PAIRS[:5]]
    labeller = Labeller(str(run.run_dir), "source", "id", "torch", 4, 1)
    out = labeller(pd.DataFrame({"id": [10, 11, 12, 13, 14], "source": sources}))
    assert list(out.columns) == ["id", "translation"]
    assert out["id"].tolist() == [10, 11, 12, 13, 14]
    assert out["translation"].tolist() == rnnlab.load(run.run_dir).translate(sources)


def _post(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_beam_limit_is_the_servers_setting(run):
    pytest.importorskip("uvicorn", reason="the server needs uvicorn")
    from rnnlab.serve import ServeConfig, app_for, running_server

    with pytest.raises(ConfigError, match="max_beam must be a positive integer"):
        ServeConfig(max_beam=0)
    predictor = rnnlab.load(run.run_dir)  # its own beam is 2
    app = app_for(predictor, run=run.run_dir, config=ServeConfig(max_beam=1))
    with running_server(app) as base:
        with urllib.request.urlopen(f"{base}/model", timeout=30) as response:
            assert json.loads(response.read())["limits"]["max_beam"] == 1
        status, found = _post(f"{base}/translate", {"text": "Ein Hund rennt."})
        assert status == 200 and found["beam"] == 1  # the run's beam, bounded
        assert found["translations"] == predictor.translate(["Ein Hund rennt."], beam=1)
        status, error = _post(f"{base}/translate", {"text": "Ein Hund.", "beam": 2})
        assert status == 422 and "error" in error
