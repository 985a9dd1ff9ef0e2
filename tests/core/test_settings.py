"""Settings refuse what would expose people: the published pseudonym key against a cluster elsewhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from casehub.core.errors import ConfigError
from casehub.core.settings import Settings


def settings(tmp_path: Path, bootstrap: str, key: str | None = None) -> Settings:
    extra = {"pseudonym_key": SecretStr(key)} if key else {}
    return Settings(home=tmp_path, kafka_bootstrap=bootstrap, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("bootstrap", ["127.0.0.1:19092", "localhost:9092,127.0.0.1:9094", "[::1]:9092"])
def test_the_development_key_is_fine_on_a_cluster_on_this_machine(tmp_path: Path, bootstrap: str) -> None:
    settings(tmp_path, bootstrap).require_secret_pseudonym_key()


@pytest.mark.parametrize("bootstrap", ["kafka-1:9092,kafka-2:9092", "127.0.0.1:9092,10.0.0.5:9092"])
def test_the_development_key_is_refused_for_a_cluster_elsewhere(tmp_path: Path, bootstrap: str) -> None:
    with pytest.raises(ConfigError, match="published development key") as refused:
        settings(tmp_path, bootstrap).require_secret_pseudonym_key()
    assert "CASEHUB_PSEUDONYM_KEY" in str(refused.value)
    settings(tmp_path, bootstrap, key="a-secret-kept-in-the-hub").require_secret_pseudonym_key()


def test_the_worker_does_not_start_with_the_development_key_against_a_remote_cluster(tmp_path: Path) -> None:
    env = {"CASEHUB_HOME": str(tmp_path), "CASEHUB_KAFKA_BOOTSTRAP": "kafka-1.example:9092", "PATH": "/usr/bin:/bin"}
    casehub = Path(sys.executable).parent / "casehub"
    done = subprocess.run([str(casehub), "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "error: CASEHUB_PSEUDONYM_KEY is casehub's published development key" in done.stderr
    assert "kafka-1.example:9092" in done.stderr


def test_broker_nodes_parse_from_the_environment_and_refuse_other_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEHUB_BROKER_NODES", "3")
    assert Settings().broker_nodes == 3
    monkeypatch.setenv("CASEHUB_BROKER_NODES", "2")
    with pytest.raises(ValueError, match="1 node or 3"):
        Settings()
