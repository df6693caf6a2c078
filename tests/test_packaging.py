"""The built wheel works on its own: the top-level ``templates/`` is mapped into
the package, and a plain, non-editable install renders every macro and the email.

The wheel is built from this source tree and installed with ``--no-deps`` into a fresh
virtual environment; the dependencies already installed here are made importable
through a ``.pth`` line, so nothing is downloaded. That line adds a directory to
``sys.path`` without processing the ``.pth`` files inside it, so this environment's
editable install of flask_kaleo cannot leak in; the script asserts it did not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
import typing as t
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    '''
    """Runs inside the fresh virtual environment, against the installed wheel."""
    import sys
    from pathlib import Path

    import flask_kaleo

    venv = Path(sys.prefix).resolve()
    package = Path(flask_kaleo.__file__).resolve().parent
    assert package.is_relative_to(venv), f"flask_kaleo imported from {package}, not {venv}"
    assert (package / "py.typed").is_file()

    from flask import Flask
    from flask import render_template_string
    from flask import template_rendered
    from flask_mail import Mail
    from flask_sqlalchemy import SQLAlchemy
    from flask_wtf import CSRFProtect

    from flask_kaleo import Kaleo
    from flask_kaleo import blueprint

    db = SQLAlchemy()
    mail = Mail()
    signed_in = []


    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        email = db.Column(db.String(254), unique=True, nullable=False)
        is_authenticated = True


    kaleo = Kaleo(db=db, user_model=User)
    kaleo.current_user_loader(lambda: signed_in[0])

    app = Flask("hostapp")
    app.config.update(
        SECRET_KEY="packaging test",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{sys.argv[1]}",
        MAIL_DEFAULT_SENDER="invites@example.org",
        TESTING=True,
    )
    db.init_app(app)
    mail.init_app(app)
    CSRFProtect(app)
    kaleo.init_app(app)
    app.register_blueprint(blueprint, url_prefix="/invites")

    templates = package / "templates"
    used = []


    def record(sender, template, context, **extra):
        used.append(template)


    template_rendered.connect(record, app)  # a module-level function: blinker holds it weakly

    with app.test_request_context("/"):
        db.create_all()
        alice = User(email="alice@example.com")
        db.session.add(alice)
        db.session.commit()
        kaleo.grant(2, top_off=True)
        signed_in.append(alice)

        with mail.record_messages() as outbox:
            kaleo.invite(alice, "carol@example.com", "<b>Welcome</b>")
        (email,) = outbox
        assert "http://localhost/invites/accept/" in email.body, email.body
        assert "&lt;b&gt;Welcome&lt;/b&gt;" in email.html, email.html
        email_templates = {Path(t.filename).resolve() for t in used}
        assert email_templates == {
            templates / "kaleo" / "email" / "invitation_subject.txt",
            templates / "kaleo" / "email" / "invitation.txt",
            templates / "kaleo" / "email" / "invitation.html",
        }, email_templates

        macros = app.jinja_env.get_template("kaleo/macros.html")
        assert Path(macros.filename).resolve() == templates / "kaleo" / "macros.html"
        page = render_template_string(
            '{% from "kaleo/macros.html" import invite_form, invites_sent, remaining_invites %}'
            "<p>({{ remaining_invites(user) }})</p>{{ invite_form(user) }}"
            "{{ invites_sent(user) }}",
            user=alice,
        )
        assert "<p>(1)</p>" in page, page
        assert 'id="invitation-form-messages"' in page, page
        assert 'class="invitation_form"' in page and 'name="csrf_token"' in page, page
        assert 'class="invite-list"' in page and "carol@example.com" in page, page

    response = app.test_client().get("/invites/static/kaleo.js")
    assert response.status_code == 200, response.status
    assert response.data == (package / "static" / "kaleo.js").read_bytes()
    response.close()
    print("installed wheel OK:", package)
    '''
)


def run(*args: str | Path, **kwargs: t.Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, timeout=120, **kwargs
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this source tree (with the build backend installed here)."""
    outdir = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", outdir, ROOT)
    (built,) = outdir.glob("flask_kaleo-*.whl")
    return built


def test_wheel_maps_the_templates_into_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    for required in (
        "flask_kaleo/__init__.py",
        "flask_kaleo/py.typed",
        "flask_kaleo/static/kaleo.js",
        "flask_kaleo/templates/kaleo/macros.html",
        "flask_kaleo/templates/kaleo/email/invitation_subject.txt",
        "flask_kaleo/templates/kaleo/email/invitation.txt",
        "flask_kaleo/templates/kaleo/email/invitation.html",
    ):
        assert required in names, required
    shipped = {
        f"flask_kaleo/templates/{path.relative_to(ROOT / 'templates').as_posix()}"
        for path in (ROOT / "templates").rglob("*")
        if path.is_file()
    }
    assert shipped <= names, shipped - names
    stray = sorted(n for n in names if not n.startswith(("flask_kaleo/", "flask_kaleo-")))
    assert stray == [], f"the wheel puts files outside the package: {stray}"


def test_installed_wheel_renders_macros_email_and_serves_the_script(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    run(
        sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check",
        "install", "--quiet", "--no-deps", "--no-index", wheel,
    )  # fmt: skip
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip()
    )
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_parent_environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    script = tmp_path / "host.py"
    script.write_text(SCRIPT, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}

    result = run(python, "-I", script, tmp_path / "host.sqlite", cwd=tmp_path, env=environment)

    assert "installed wheel OK:" in result.stdout
    assert str(site) in result.stdout
