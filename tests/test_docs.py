"""The documentation's examples run, and its reference tables cover the code.

Every ```python block of a page runs, in order, in one namespace per page. Pages
other than the quick start first run the quick start's blocks, which define
``create_app``, ``db``, ``User``, ``kaleo`` and ``mail``: the pages say so. Every
```jinja block renders (with StrictUndefined) for a signed-in user of that app.

The README's quick start is the docs' quick start, word for word; saved as app.py it
runs with the README's command (CSRF on, development mail, a file database) and a
newcomer's first invitation goes from signup to an accepted signup through it.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import pytest
from jinja2 import StrictUndefined

import flask_kaleo
from flask_kaleo.config import DEFAULT_SETTINGS
from tests.helpers import Browser
from tests.helpers import free_port
from tests.helpers import returns

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
QUICKSTART = DOCS / "quickstart.md"
README = ROOT / "README.md"
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<code>.*?)^```\s*$", re.M | re.S)


class Block(t.NamedTuple):
    page: Path
    line: int
    code: str


def blocks(page: Path, language: str) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(page, text.count("\n", 0, match.start()) + 2, match["code"])
        for match in FENCE.finditer(text)
        if match["lang"] == language
    ]


def run(block: Block, namespace: dict[str, t.Any]) -> None:
    where = f"{block.page.relative_to(ROOT)} (code block at line {block.line})"
    exec(compile(block.code, where, "exec"), namespace)


def quickstart_namespace() -> dict[str, t.Any]:
    namespace: dict[str, t.Any] = {"__name__": "docs_example"}
    for block in blocks(QUICKSTART, "python"):
        run(block, namespace)
    return namespace


PAGES = sorted(DOCS.glob("*.md"))
PYTHON_PAGES = [page for page in PAGES if blocks(page, "python")]
JINJA_BLOCKS = [block for page in PAGES for block in blocks(page, "jinja")]


def test_the_docs_have_examples() -> None:
    assert QUICKSTART in PYTHON_PAGES
    assert len(PYTHON_PAGES) >= 5 and JINJA_BLOCKS


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Examples that use a file database create it (and Flask's instance folder) here."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda page: page.name)
def test_python_examples_run(page: Path) -> None:
    namespace = {"__name__": "docs_example"} if page == QUICKSTART else quickstart_namespace()
    for block in blocks(page, "python"):
        run(block, namespace)


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize("block", JINJA_BLOCKS, ids=lambda b: f"{b.page.name}:{b.line}")
def test_template_examples_render(block: Block) -> None:
    from flask import render_template_string
    from flask_login import login_user

    ns = quickstart_namespace()
    app = ns["create_app"]({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    app.jinja_env.undefined = StrictUndefined
    db, user_model = ns["db"], ns["User"]
    with app.app_context():
        db.create_all()
        user = user_model(email="reader@example.com")
        db.session.add(user)
        db.session.commit()
        with app.test_request_context():
            login_user(user)
            html = render_template_string(block.code, reason="This invitation has expired.")
    assert html.strip()
    if "invite_form(" in block.code:
        assert 'id="invitation-form-messages"' in html
        assert 'class="invite-list"' in html and "empty-invites" in html


ROW = re.compile(
    r"^\| `(?P<key>KALEO_\w+)` \| (?P<type>[^|]+) \| `(?P<default>[^`]*)` \| .+\|$", re.M
)


def test_readme_quick_start_is_the_docs_quick_start() -> None:
    readme = [block.code for block in blocks(README, "python")]
    docs = [block.code for block in blocks(QUICKSTART, "python")]
    assert readme, "README.md has no python block"
    assert readme == docs[: len(readme)], "README.md and docs/quickstart.md differ"


CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found, "the form carries no CSRF token"
    return found[1]


def readme_command_after_quick_start() -> str:
    """The shell command the README gives right after the quick start's code."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index("## Quick start") :]
    command = next(m["code"] for m in FENCE.finditer(after) if m["lang"] == "sh")
    return command.strip()


def read_until(stream: t.IO[str], needle: str) -> list[str]:
    """Lines of ``stream`` up to the first holding ``needle`` (a server that never
    writes it fails the test after the usual deadline, never hangs it)."""

    def read() -> list[str]:
        lines: list[str] = []
        while not lines or needle not in lines[-1]:
            line = stream.readline()
            assert line, f"the server stopped before writing {needle!r}:\n{''.join(lines)}"
            lines.append(line)
        return lines

    return t.cast(list[str], returns(read))


def test_readme_quick_start_runs_as_printed(tmp_path: Path) -> None:
    """A newcomer's first hour: save the code as app.py, run the README's command, sign
    up, invite, find the link in the console, and sign up through it in another
    browser. CSRF on, a file database, the real development server."""
    command = readme_command_after_quick_start()
    assert command == "flask --app app run"
    (tmp_path / "app.py").write_text("".join(b.code for b in blocks(README, "python")))
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", *command.split(), "--port", str(port)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as server:
        try:
            assert server.stderr is not None
            read_until(server.stderr, f"Running on http://127.0.0.1:{port}")
            assert (tmp_path / "instance" / "site.db").is_file()  # db.create_all() ran

            alice = Browser(port, ({}, ""))
            assert alice.request("GET", "/").status_code == 302  # members only: to /login
            signup_page = alice.request("GET", "/signup").text
            alice.csrf_token = csrf_of(signup_page)
            form = {"email": "alice@example.com", "password": "secret 1"}
            reply = alice.request("POST", "/signup", {**form, "csrf_token": alice.csrf_token})
            assert reply.status_code == 302, reply.text  # signing up is open: no invitation
            home = alice.request("GET", "/").text
            assert "(5)" in home  # KALEO_DEFAULT_INVITE_ALLOCATION
            alice.csrf_token = csrf_of(home)

            reply = alice.invite("bob@example.com")
            body = reply.json
            assert body["status"] == "OK", body  # KALEO_DELIVERY = "log": no mail server needed
            assert body["invitations_remaining"] == 4
            console = "".join(read_until(server.stderr, "/invites/accept/"))
            assert "KALEO_DELIVERY is 'log': this email was not sent." in console
            assert "To: bob@example.com" in console
            link = re.search(r"http://127\.0\.0\.1:5000(/invites/accept/\S+)", console)
            assert link, console

            bob = Browser(port, ({}, ""))  # a private window
            reply = bob.request("GET", link[1])
            assert reply.status_code == 303
            signup_page = bob.request("GET", "/signup").text
            assert 'value="bob@example.com"' in signup_page  # prefilled with the invited address
            bob.csrf_token = csrf_of(signup_page)
            form = {
                "email": "bob@example.com",
                "password": "secret 2",
                "csrf_token": bob.csrf_token,
            }
            assert bob.request("POST", "/signup", form).status_code == 302
            assert "Signed in as bob@example.com" in bob.request("GET", "/").text
            assert bob.request("GET", "/signup").status_code == 303  # signed in: sent on
            used = bob.request("GET", link[1])
            assert used.status_code == 410 and 'href="/login"' in used.text
            assert "accepted" in alice.request("GET", "/").text
        finally:
            server.terminate()


TUTORIAL = DOCS / "tutorial.md"


def section(page: Path, heading: str) -> str:
    """The text of ``page`` from the heading that starts with ``heading`` to the next."""
    text = page.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start : None if end == -1 else end]


def test_the_tutorial_after_the_quick_start_migrates_every_table(tmp_path: Path) -> None:
    """A newcomer runs the quick start's app.py, then follows the tutorial's step 2 in
    the same folder, its commands as printed: the first migration creates the tables
    (not an empty one over the quick start's database)."""
    code = "".join(b.code for b in blocks(README, "python"))
    (tmp_path / "app.py").write_text(code)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(tmp_path),
    }
    subprocess.run([sys.executable, "-c", "import app"], cwd=tmp_path, env=env, check=True)
    assert (tmp_path / "instance" / "site.db").is_file()  # the quick start's tables

    step = section(TUTORIAL, "2.")
    last_two = (
        "with app.app_context():\n"
        "    db.create_all()  # your users' table and flask-kaleo's tables\n"
    )
    assert code.endswith(last_two), "step 2 removes the quick start's last two lines"
    [addition] = [m["code"] for m in FENCE.finditer(step) if m["lang"] == "python"]
    (tmp_path / "app.py").write_text(code[: -len(last_two)] + "\n" + addition)
    [console] = [m["code"] for m in FENCE.finditer(step) if m["lang"] == "console"]
    for line in console.splitlines():
        assert line.startswith("$ "), line
        done = subprocess.run(
            line[2:], shell=True, cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (line, done.stdout, done.stderr)

    [script] = (tmp_path / "migrations" / "versions").glob("*.py")
    for table in ("user", "kaleo_join_invitation", "kaleo_invitation_stat"):
        assert f"op.create_table('{table}'" in script.read_text(), table


@pytest.mark.usefixtures("in_tmp")
def test_the_databases_page_names_every_table() -> None:
    """Its list of tables is written by hand: a new model must be added to it."""
    tables = {
        name for name in quickstart_namespace()["db"].metadata.tables if name.startswith("kaleo_")
    }
    text = section(DOCS / "databases.md", "The tables")
    missing = sorted(name for name in tables if f"`{name}`" not in text)
    assert tables and not missing, f"docs/databases.md's 'The tables' does not name {missing}"


def test_the_cli_page_lists_every_command() -> None:
    from flask_kaleo.cli import kaleo_cli

    listed = re.findall(r"^\| `([a-z-]+)` \|", (DOCS / "cli.md").read_text("utf-8"), re.M)
    assert sorted(listed) == sorted(kaleo_cli.commands), "docs/cli.md's table and the CLI differ"


PIP_INSTALL = re.compile(r"pip install(?P<args>[^`\n#&;]*)")
PATH_REQUIREMENT = re.compile(r"^(?:\.{1,2}|~|/)[^\[\]]*(?:\[(?P<extras>[\w,-]+)\])?$")
DISTRIBUTION = re.compile(r"^flask[-_.]kaleo\b", re.I)


def pip_installs() -> list[tuple[str, str]]:
    """Every ``pip install ...`` the docs, the README and CONTRIBUTING print, in code
    blocks or inline: (where, the arguments)."""
    found = []
    for page in [*PAGES, README, ROOT / "CONTRIBUTING.md"]:
        text = page.read_text(encoding="utf-8")
        for match in PIP_INSTALL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", match["args"].strip()))
    return found


def test_every_pip_install_names_flask_kaleo_by_a_path() -> None:
    """flask-kaleo is not on the package index: ``pip install 'flask-kaleo[rq]'`` fails
    as printed, ``pip install './flask-kaleo[rq]'`` (from the clone's parent) works.
    Each extra named must be one the package declares."""
    extras = set(importlib.metadata.metadata("flask-kaleo").get_all("Provides-Extra") or [])
    installs = pip_installs()
    assert len(installs) > 5  # the pattern finds them
    checked = 0
    for where, args in installs:
        for arg in shlex.split(args):
            if arg.startswith("-"):
                continue
            assert not DISTRIBUTION.match(arg), f"{where}: {arg!r} is not on the index: use a path"
            path = PATH_REQUIREMENT.match(arg)
            if path is None:
                continue  # another project's distribution (pre-commit)
            named = set((path["extras"] or "").split(",")) - {""}
            assert named <= extras, f"{where}: no extra {named - extras} in pyproject.toml"
            checked += 1
    assert checked > 5


def test_settings_page_documents_every_setting_with_its_default() -> None:
    rows = {m["key"]: m for m in ROW.finditer((DOCS / "settings.md").read_text("utf-8"))}
    assert set(rows) == set(DEFAULT_SETTINGS), "docs/settings.md and DEFAULT_SETTINGS differ"
    for key, default in DEFAULT_SETTINGS.items():
        shown = repr(default).replace("datetime.timedelta", "timedelta")
        assert rows[key]["default"] == shown, key
        assert rows[key]["type"].strip(), key


def literal_blocks(docstring: str) -> list[str]:
    """The reST literal blocks (the indented text after ``::``) of a docstring."""
    found: list[str] = []
    lines = docstring.splitlines()
    for number, line in enumerate(lines):
        if not line.rstrip().endswith("::"):
            continue
        indent = len(line) - len(line.lstrip())
        block: list[str] = []
        for following in lines[number + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            block.append(following)
        found.append(textwrap.dedent("\n".join(block)).strip("\n"))
    return found


def test_docstring_examples_on_the_api_page_run() -> None:
    """The API page renders the signals module's docstring, example included."""
    import flask_kaleo.signals

    [example] = literal_blocks(flask_kaleo.signals.__doc__ or "")
    namespace: dict[str, t.Any] = {}
    exec(compile(example, "flask_kaleo/signals.py docstring", "exec"), namespace)
    assert namespace["welcome"] in flask_kaleo.signals.invite_accepted.receivers_for(object())
    flask_kaleo.signals.invite_accepted.disconnect(namespace["welcome"])


def test_api_page_documents_every_public_name() -> None:
    page = (DOCS / "api.md").read_text("utf-8")
    missing = [
        name for name in flask_kaleo.__all__ if not re.search(rf":: {re.escape(name)}\b", page)
    ]
    assert not missing, f"docs/api.md does not document {missing}"
