"""Settings are read when the app is built, and development keeps one secret key on disk."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from app import create_app
from app.config import kept_secret_key

DB = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:5432/unused"}


@pytest.fixture
def no_secret(monkeypatch):
    for name in ("SECRET_KEY", "CITY311_INSTANCE_PATH", "MAIL_OUTBOX_DIR", "MEDIA_ROOT"):
        monkeypatch.delenv(name, raising=False)


def test_settings_are_read_from_the_environment_when_the_app_is_built(monkeypatch):
    monkeypatch.setenv("CITY_NAME", "Springfield")
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "3")
    first = create_app("test", DB)
    monkeypatch.setenv("CITY_NAME", "Shelbyville")
    second = create_app("test", DB)
    assert (first.config["CITY_NAME"], first.config["OUTBOX_MAX_ATTEMPTS"]) == ("Springfield", 3)
    assert second.config["CITY_NAME"] == "Shelbyville"
    assert second.config["OPEN311_CONTACT"] == "Shelbyville 311"


def test_development_keeps_one_secret_key_in_the_instance_folder(tmp_path, no_secret):
    first = create_app("development", DB, instance=tmp_path)
    second = create_app("development", DB, instance=tmp_path)
    key_file = tmp_path / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.instance_path == str(tmp_path)
    assert first.config["MAIL_OUTBOX_DIR"] == str(tmp_path / "mail")
    assert first.config["MEDIA_ROOT"] == str(tmp_path / "media")


def test_the_instance_folder_can_be_set_in_the_environment(tmp_path, no_secret, monkeypatch):
    monkeypatch.setenv("CITY311_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app("development", DB)
    assert app.instance_path == str(tmp_path / "inst")
    assert (tmp_path / "inst" / "secret_key").read_text().strip() == app.config["SECRET_KEY"]


def test_a_secret_key_from_the_environment_wins_and_nothing_is_written(
    tmp_path, no_secret, monkeypatch
):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app("development", DB, instance=tmp_path)
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert list(tmp_path.iterdir()) == []


def test_production_still_requires_a_secret_key(tmp_path, no_secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", {**DB, "SMTP_HOST": "mail.city.test"}, instance=tmp_path)
    assert list(tmp_path.iterdir()) == []


def _key_at_the_same_moment(path: str, barrier, results) -> None:
    barrier.wait()
    results.put(kept_secret_key(Path(path)))


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    count = 6
    barrier, results = ctx.Barrier(count), ctx.Queue()
    path = tmp_path / "fresh" / "secret_key"
    procs = [
        ctx.Process(target=_key_at_the_same_moment, args=(str(path), barrier, results))
        for _ in range(count)
    ]
    for proc in procs:
        proc.start()
    keys = [results.get(timeout=30) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert len(set(keys)) == 1
    assert path.read_text().strip() == keys[0]
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no leftovers


def test_an_empty_key_file_is_a_clear_error(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="delete it"):
        kept_secret_key(tmp_path / "secret_key")
