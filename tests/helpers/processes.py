"""Other processes: free ports, the Redis databases of the queue tests, and the
commands (workers, ``flask kaleo ...``) run against this test's app."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pickle
import socket
import subprocess
import sys
import typing as t
import zlib
from base64 import b64decode
from pathlib import Path

from flask import Flask

from tests.helpers.run import WAIT
from tests.helpers.run import skip_or_fail

if t.TYPE_CHECKING:
    from tests.helpers.mail import SMTPServer


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


RQ_REDIS_URL = os.environ.get("KALEO_TEST_RQ_REDIS_URL", "")
"""The RQ tests' Redis database (``KALEO_TEST_RQ_REDIS_URL``), emptied before and after
each of them; unset, those tests are skipped."""
CELERY_REDIS_URL = os.environ.get("KALEO_TEST_CELERY_REDIS_URL", "")
"""The Celery recipe's broker (``KALEO_TEST_CELERY_REDIS_URL``), emptied likewise."""
REDIS_URLS = {
    "rq_redis": ("KALEO_TEST_RQ_REDIS_URL", RQ_REDIS_URL),
    "celery_redis": ("KALEO_TEST_CELERY_REDIS_URL", CELERY_REDIS_URL),
}
"""The fixtures that empty a Redis database, and the variable that names it."""
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
"""Where this virtual environment's ``flask``, ``rq`` and ``celery`` commands are."""


@contextlib.contextmanager
def empty_redis(url: str) -> t.Iterator[t.Any]:
    """A connection to the Redis database at ``url``, empty inside the block (and
    emptied again after it); fails in CI, skips elsewhere, when Redis is not running.
    Only a database the run was given (``REDIS_URLS``) is ever emptied."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    connection = Redis.from_url(url, socket_timeout=10, socket_connect_timeout=2)
    try:
        connection.ping()
    except (RedisConnectionError, RedisTimeoutError) as error:
        skip_or_fail(f"Redis is not answering at {url} ({error}): redis-server --daemonize yes")
    connection.flushdb()
    try:
        yield connection
    finally:
        connection.flushdb()
        connection.close()


def redis_contents(connection: t.Any) -> list[bytes]:
    """Everything the Redis database holds: each key (found with SCAN) and its value(s)
    read by type, and whatever those decode to (zlib, base64, pickle; RQ keeps a job's
    call zlib-compressed and pickled in the ``data`` field of its ``rq:job:<id>`` hash,
    and results base64-encoded in streams), to search for what must never be there."""
    blobs: list[bytes] = []
    for key in connection.scan_iter(count=500):
        kind = connection.type(key).decode()
        values: list[bytes]
        if kind == "string":
            values = [connection.get(key)]
        elif kind == "hash":
            values = [item for pair in connection.hgetall(key).items() for item in pair]
        elif kind == "list":
            values = connection.lrange(key, 0, -1)
        elif kind == "set":
            values = list(connection.smembers(key))
        elif kind == "zset":
            values = [member for member, _ in connection.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [
                item
                for _, fields in connection.xrange(key)
                for pair in fields.items()
                for item in pair
            ]
        else:
            raise AssertionError(f"Redis key {key!r} has a type this scan cannot read: {kind}")
        for value in [key, *values]:
            blobs.extend(_decodings(value))
    return blobs


def _decodings(blob: bytes, depth: int = 0) -> list[bytes]:
    """``blob`` and what it decodes to, layer under layer."""
    found = [blob]
    if depth == 3:
        return found
    layers: list[t.Callable[[bytes], bytes]] = [
        zlib.decompress,
        lambda data: b64decode(data, validate=True),
        lambda data: repr(pickle.loads(data)).encode(),  # our own Redis database
    ]
    for decode in layers:
        try:
            decoded = decode(blob)
        except Exception:  # not this encoding
            continue
        if decoded and decoded != blob:
            found.extend(_decodings(decoded, depth + 1))
    return found


def worker_env(app: Flask, database_url: str, smtp: SMTPServer, tmp_path: Path) -> dict[str, str]:
    """The environment of a process (a worker, ``flask kaleo ...``) that loads this
    test's app (``tests/queue_app.py``): its database, its ``KALEO_*`` config, mail to
    ``smtp``, signals written to ``signals.jsonl``."""
    config = {key: value for key, value in app.config.items() if key.startswith("KALEO_")}
    config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    if "CELERY" in app.config:
        config["CELERY"] = app.config["CELERY"]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "PYTHONPATH": path,
        "FLASK_APP": "tests.queue_app",
        "KALEO_TEST_DATABASE_URL": database_url,
        "KALEO_TEST_CONFIG": json.dumps(config, default=_seconds),
        "KALEO_TEST_SIGNAL_LOG": str(tmp_path / "signals.jsonl"),
    }


def _seconds(value: object) -> dict[str, float]:
    """A duration setting in ``KALEO_TEST_CONFIG``; ``tests/queue_app.py`` reads it back."""
    if not isinstance(value, dt.timedelta):
        raise TypeError(f"{value!r} cannot be passed to a worker")
    return {"seconds": value.total_seconds()}


def run_at_once(commands: list[list[str]], env: dict[str, str], tmp_path: Path) -> list[str]:
    """Start every command at once, wait for each to end (killed after ``WAIT``
    seconds), and return their outputs; each must succeed."""
    logs = [tmp_path / f"process-{n}.log" for n in range(len(commands))]
    processes = []
    for command, log in zip(commands, logs, strict=True):
        with log.open("w") as output:
            processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
                )
            )
    try:
        codes = [process.wait(timeout=WAIT) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    texts = [log.read_text() for log in logs]
    assert codes == [0] * len(commands), texts
    return texts


def run_command(
    command: list[str], env: dict[str, str], log: Path, timeout: float = 120, cwd: Path = ROOT
) -> str:
    """Run a command to its end (killed after ``timeout`` seconds) from ``cwd``, the
    project's root unless given, and return its output; it must succeed."""
    with log.open("w") as output:
        result = subprocess.run(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=timeout
        )
    text = log.read_text()
    assert result.returncode == 0, f"{command} exited with {result.returncode}:\n{text}"
    return text
