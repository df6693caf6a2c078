"""The documentation's examples run, and its reference tables cover the code.

Every ```python block of a page runs, in order, in one namespace per page. Pages
other than the quick start first run the quick start's blocks, which define
``create_app``, ``db``, ``User``, ``kaleo`` and ``mail``: the pages say so. Every
```jinja block renders (with StrictUndefined) for a signed-in user of that app.

The README's quick start is the docs' quick start, word for word; it runs as printed
(CSRF on, mail suppressed, a file database) and then sends an invitation.
"""

from __future__ import annotations

import re
import textwrap
import typing as t
from pathlib import Path

import pytest
from jinja2 import StrictUndefined

import flask_kaleo
from flask_kaleo.settings import DEFAULT_SETTINGS

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


CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.mark.usefixtures("in_tmp")
def test_readme_quick_start_runs_as_printed_and_invites() -> None:
    namespace: dict[str, t.Any] = {"__name__": "readme_example"}
    for block in blocks(README, "python"):
        run(block, namespace)
    app, db, mail, user_model = (namespace[n] for n in ("app", "db", "mail", "User"))
    assert Path(app.instance_path, "site.db").is_file()  # db.create_all() ran

    with app.app_context():
        alice = user_model(email="alice@example.com")
        db.session.add(alice)
        db.session.commit()
        alice_id = alice.id

    client = app.test_client()
    assert client.get("/").status_code == 401  # members only
    with client.session_transaction() as session:  # what login_user(alice) does
        session["_user_id"] = str(alice_id)
    page = client.get("/").get_data(as_text=True)  # load_user finds her
    assert "(5)" in page  # KALEO_DEFAULT_INVITE_ALLOCATION
    token = CSRF_FIELD.search(page)
    assert token, "the invite form carries no CSRF token"

    with mail.record_messages() as outbox:  # MAIL_SUPPRESS_SEND: recorded, not sent
        response = client.post(
            "/invites/invite",
            data={"email_address": "bob@example.com", "csrf_token": token[1]},
            headers={"Accept": "application/json"},
        )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "OK", body
    assert body["email"] == "bob@example.com"
    assert body["invitations_remaining"] == 4
    assert body["message"] == "Invitation sent to bob@example.com."
    assert "bob@example.com" in body["html"]
    assert [message.recipients for message in outbox] == [["bob@example.com"]]
    assert "(4)" in client.get("/").get_data(as_text=True)


def test_settings_page_documents_every_setting_with_its_default() -> None:
    rows = {m["key"]: m for m in ROW.finditer((DOCS / "settings.md").read_text("utf-8"))}
    assert set(rows) == set(DEFAULT_SETTINGS), "docs/settings.md and DEFAULT_SETTINGS differ"
    for key, default in DEFAULT_SETTINGS.items():
        assert rows[key]["default"] == repr(default), key
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
