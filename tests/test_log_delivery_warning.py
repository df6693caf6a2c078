"""``KALEO_DELIVERY = "log"`` says so once per process, when the app serves, never when
a ``flask`` command builds the app."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from flask_kaleo import extension
from tests.hostapp import create_app

WARNING = (
    "KALEO_DELIVERY is 'log': invitation emails are written to this log, never sent."
    " Turn it off in production."
)


def warnings_of(app: Flask, caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == app.logger.name]


def test_log_delivery_warns_once_per_process_when_serving_never_on_a_command(
    database_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extension, "_SAID", set())  # a new process
    with caplog.at_level(logging.WARNING):
        app = create_app(database_url, KALEO_DELIVERY="log")
        assert warnings_of(app, caplog) == []  # building the app, as every command does
        result = app.test_cli_runner().invoke(args=["kaleo", "report"])
        assert result.exit_code == 0, result.output
        assert warnings_of(app, caplog) == []

        client = app.test_client()
        client.get("/")
        assert warnings_of(app, caplog) == [WARNING]
        client.get("/")
        other = create_app(database_url, KALEO_DELIVERY="log")
        other.test_client().get("/")
        assert warnings_of(app, caplog) == [WARNING]  # once per process


def test_other_delivery_modes_never_warn(
    database_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extension, "_SAID", set())
    with caplog.at_level(logging.WARNING):
        app = create_app(database_url, KALEO_DELIVERY="inline")
        app.test_client().get("/")
    assert warnings_of(app, caplog) == []
