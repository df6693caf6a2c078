"""Translations (docs/i18n.md): the shipped catalogs through Flask-Babel, initialised
before or after flask-kaleo; the machine codes of refusals; the email in the
invitation's locale, also when it is rendered later; English, and nothing of
Flask-Babel imported, without it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import Flask
from flask import render_template_string
from flask import request
from flask.testing import FlaskClient
from flask_babel import Babel

from flask_kaleo import Kaleo
from flask_kaleo import i18n
from flask_kaleo.web import jinja
from tests.helpers import BROWSER
from tests.helpers import LOCALES
from tests.helpers import WAIT
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import invitation_to
from tests.helpers import kaleo_of
from tests.helpers import link_for
from tests.helpers import post_invite
from tests.helpers import reconfigure
from tests.helpers import signed_in
from tests.helpers import speaking
from tests.helpers import with_babel
from tests.hostapp import User
from tests.hostapp import create_app
from tests.hostapp import db
from tests.hostapp import mail

ROOT = Path(__file__).resolve().parent.parent


class Known(t.NamedTuple):
    """Strings each shipped language must show, written here, not read from the
    catalogs."""

    self_refusal: str
    sent: str
    subject: str
    body: str
    not_found: str
    label: str


KNOWN = {
    "en": Known(
        "You cannot invite yourself.",
        "Invitation sent to carol@example.com.",
        "alice@example.com has invited you to join",
        "Accept the invitation here:",
        "Invitation not found",
        "Email address",
    ),
    "fr": Known(
        "Vous ne pouvez pas vous inviter vous-même.",
        "Invitation envoyée à carol@example.com.",
        "alice@example.com vous invite à rejoindre",
        "Acceptez l’invitation ici :",
        "Invitation introuvable",
        "Adresse e-mail",
    ),
    "de": Known(
        "Sie können sich nicht selbst einladen.",
        "Einladung an carol@example.com gesendet.",
        "alice@example.com hat Sie zu",
        "Nehmen Sie die Einladung hier an:",
        "Einladung nicht gefunden",
        "E-Mail-Adresse",
    ),
    "es": Known(
        "No puedes invitarte a ti mismo.",
        "Invitación enviada a carol@example.com.",
        "alice@example.com te ha invitado a unirte a",
        "Acepta la invitación aquí:",
        "Invitación no encontrada",
        "Correo electrónico",
    ),
    "pt_BR": Known(
        "Você não pode convidar a si mesmo.",
        "Convite enviado para carol@example.com.",
        "alice@example.com convidou você para participar de",
        "Aceite o convite aqui:",
        "Convite não encontrado",
        "Endereço de e-mail",
    ),
    "ja": Known(
        "自分自身を招待することはできません。",
        "carol@example.com に招待を送信しました。",
        "alice@example.com さんから",
        "こちらから招待を受け入れてください:",
        "招待が見つかりません",
        "メールアドレス",
    ),
    "ar": Known(
        "لا يمكنك دعوة نفسك.",
        # Right to left, an address is isolated (U+2068 ... U+2069): the full stop
        # stays at the end of the Arabic sentence, not beside the address's start.
        "أُرسلت الدعوة إلى \u2068carol@example.com\u2069.",
        "دعاك alice@example.com للانضمام إلى",
        "اقبل الدعوة من هنا:",
        "لم يُعثر على الدعوة",
        "عنوان البريد الإلكتروني",
    ),
}


def kaleo_mail_outbox() -> t.Any:
    return mail.record_messages()


@pytest.fixture
def babel_app(app: Flask) -> Flask:
    """The host app with Flask-Babel initialised after flask-kaleo."""
    return with_babel(app)


@pytest.mark.parametrize("locale", LOCALES)
def test_each_shipped_language(babel_app: Flask, outbox: list[t.Any], locale: str) -> None:
    client = babel_app.test_client()
    known = KNOWN[locale]
    signed_in(client)
    headers = speaking(locale)

    refused = post_invite(client, "alice@example.com", headers=headers)
    # The text is what is tested: each shipped language's refusal.
    assert_error(refused, 200, "email_address", known.self_refusal, code="cannot_invite_self")
    assert refused.json["error_codes"] == {"email_address": ["cannot_invite_self"]}

    form = client.get("/", headers={"Accept-Language": locale}).get_data(as_text=True)
    assert f">{known.label}</label>" in form

    answer = post_invite(client, "carol@example.com", headers=headers)
    assert answer.json["status"] == "OK" and answer.json["message"] == known.sent
    [email] = outbox
    assert known.subject in email.subject
    assert known.body in email.body
    direction = "rtl" if locale == "ar" else "ltr"
    assert f'lang="{locale.replace("_", "-")}" dir="{direction}"' in email.html
    with babel_app.app_context():
        assert invitation_to("carol@example.com").locale == locale

    page = client.get("/invites/accept/no-such-token", headers={"Accept-Language": locale})
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert f'<html lang="{locale.replace("_", "-")}" dir="{direction}">' in html
    assert f"<title>{known.not_found}</title>" in html


class Shown(t.NamedTuple):
    """Strings of the sent list and the pages each shipped language must show."""

    pending: str
    confirm: str
    used: str
    log_in: str
    no_days: str


SHOWN = {
    "en": Shown(
        "pending",
        "Revoke the invitation to carol@example.com?",
        "Invitation already used",
        "log in",
        "Say how long to extend the invitation by.",
    ),
    "fr": Shown(
        "en attente",
        "Retirer l’invitation à carol@example.com ?",
        "Invitation déjà utilisée",
        "connectez-vous",
        "Indiquez de combien de temps prolonger l’invitation.",
    ),
    "de": Shown(
        "ausstehend",
        "Einladung an carol@example.com zurückziehen?",
        "Einladung bereits verwendet",
        "melden Sie sich an",
        "Geben Sie an, um wie lange die Einladung verlängert werden soll.",
    ),
    "es": Shown(
        "pendiente",
        "¿Retirar la invitación a carol@example.com?",
        "Invitación ya utilizada",
        "inicia sesión",
        "Indica cuánto tiempo quieres extender la invitación.",
    ),
    "pt_BR": Shown(
        "pendente",
        "Cancelar o convite para carol@example.com?",
        "Convite já utilizado",
        "entre",
        "Diga por quanto tempo estender o convite.",
    ),
    "ja": Shown(
        "保留中",
        "carol@example.com への招待を取り消しますか?",
        "使用済みの招待",
        "ログイン",
        "招待を延長する期間を指定してください。",
    ),
    "ar": Shown(
        "معلّقة",
        "هل تريد سحب الدعوة الموجهة إلى carol@example.com؟",
        "الدعوة مستخدمة بالفعل",
        "سجّل الدخول",
        "حدّد المدة التي تريد تمديد الدعوة بها.",
    ),
}


@pytest.mark.settings(KALEO_LOGIN_URL="/login")
@pytest.mark.parametrize("locale", LOCALES)
def test_the_sent_list_and_the_pages_in_each_language(
    babel_app: Flask, outbox: list[t.Any], locale: str
) -> None:
    """The state label, the no-JavaScript Revoke confirmation, the used link's page
    with its log-in link; a refusal translated while its ``code`` stays the same."""
    client = babel_app.test_client()
    shown = SHOWN[locale]
    language = {"Accept-Language": locale.replace("_", "-")}
    signed_in(client)
    post_invite(client, "carol@example.com", headers=speaking(locale))
    sent = client.get("/", headers=language).get_data(as_text=True)
    assert f'<span class="kaleo-status">{shown.pending}</span>' in sent
    with babel_app.app_context():
        invitation_id = invitation_to("carol@example.com").id

    form = {"csrf_token": csrf_token(client)}
    browser = {**BROWSER, **language}
    confirm = client.post(f"/invites/revoke/{invitation_id}", data=form, headers=browser)
    address = '<bdi class="kaleo-address">carol@example.com</bdi>'
    heading = shown.confirm.replace("carol@example.com", address)
    assert f'<h1 class="kaleo-confirm-heading">{heading}</h1>' in confirm.text

    refused = client.post(f"/invites/extend/{invitation_id}", data=form, headers=speaking(locale))
    # The text is what is tested: the refusal in the visitor's language.
    assert_error(refused, 400, "by", shown.no_days, code="bad_request")

    used = client.get(link_for(babel_app, "bob@example.com", "accepted"), headers=language)
    assert used.status_code == 410
    assert f">{shown.used}</h1>" in used.text
    assert f'<a class="kaleo-login" href="/login">{shown.log_in}</a>' in used.text


def test_the_expiry_is_written_for_the_locale_in_utc(
    babel_app: Flask, client: FlaskClient, outbox: list[t.Any]
) -> None:
    signed_in(client)
    post_invite(client, "carol@example.com", headers=speaking("fr"))
    with babel_app.app_context():
        expires = invitation_to("carol@example.com").expires_at
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août"]
    months += ["septembre", "octobre", "novembre", "décembre"]
    month = months[expires.month - 1]
    [email] = outbox
    line = next(line for line in email.body.splitlines() if line.startswith("Ce lien"))
    assert line.startswith(f"Ce lien est valable jusqu’au {expires.day} {month} {expires.year}")
    assert line.endswith(f" {expires.hour:02}:{expires.minute:02} TU.")  # TU: UTC in French


def test_the_inviters_choice_of_locale_wins(
    babel_app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    with babel_app.app_context():
        alice = db.session.merge(signed_in(babel_app.test_client()))
        with babel_app.test_request_context(headers={"Accept-Language": "fr"}):
            invitation = kaleo.invite(alice, "carol@example.com", locale="de")
        assert invitation.locale == "de"
        with pytest.raises(ValueError, match="not a locale"):
            kaleo.invite(alice, "dave@example.com", locale="fr<script>")
        with pytest.raises(ValueError, match="not a locale Babel knows"):
            kaleo.invite(alice, "dave@example.com", locale="zz")  # nothing spent
    [email] = outbox
    assert "hat Sie zu" in email.subject


PRODUCTION = {"TESTING": False, "MAIL_SUPPRESS_SEND": True, "KALEO_SITE_URL": "https://example.org"}


@pytest.mark.all_backends
@pytest.mark.settings(**PRODUCTION)
@pytest.mark.parametrize(
    "selected",
    [
        "en_US@" + "x" * 40,  # Babel parses it; 46 characters, and the column holds 35
        "../../etc/passwd",  # Babel cannot parse it
        "zz_ZZ",  # a locale Babel does not know
        "fr<script>",
    ],
)
def test_a_hostile_request_locale_is_ignored(
    app: Flask, outbox: list[t.Any], selected: str
) -> None:
    """An app's selector passing ``?lang=`` through: the invitation is sent in the
    default language and no locale is stored; the pages keep working."""
    Babel(app, locale_selector=lambda: request.args.get("lang"))
    client = app.test_client()
    signed_in(client)
    token = csrf_token(client)
    response = client.post(
        "/invites/invite",
        query_string={"lang": selected},
        data={"email_address": "carol@example.com", "csrf_token": token},
        headers=speaking("fr"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["status"] == "OK"
    assert KNOWN["en"].sent in response.json["message"]
    assert client.get("/", query_string={"lang": selected}).status_code == 200
    with app.app_context():
        assert invitation_to("carol@example.com").locale is None
    [email] = outbox
    assert KNOWN["en"].subject in email.subject and KNOWN["en"].body in email.body


@pytest.mark.settings(**PRODUCTION)
def test_a_request_locale_that_fits_is_stored(app: Flask, outbox: list[t.Any]) -> None:
    Babel(app, locale_selector=lambda: request.args.get("lang"))
    client = app.test_client()
    signed_in(client)
    token = csrf_token(client)
    response = client.post(
        "/invites/invite",
        query_string={"lang": "pt_BR"},
        data={"email_address": "carol@example.com", "csrf_token": token},
        headers=speaking("fr"),
    )
    assert response.json["status"] == "OK"
    with app.app_context():
        assert invitation_to("carol@example.com").locale == "pt_BR"
    assert KNOWN["pt_BR"].subject in outbox[0].subject


@pytest.mark.settings(KALEO_DELIVERY="queue", KALEO_SITE_URL="https://example.org")
def test_a_stored_locale_babel_no_longer_knows_falls_back(
    babel_app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    """An invitation queued with a locale the app later stopped offering is written in
    the default language: it must not stay stuck in the queue."""
    queued: list[int] = []
    kaleo.delivery_queue(queued.append)
    signed_in(client)
    post_invite(client, "carol@example.com", headers=speaking("fr"))
    with babel_app.app_context():
        invitation = invitation_to("carol@example.com")
        invitation.locale = "zz"
        db.session.commit()
        assert kaleo.deliver(queued[0]) == "delivered"
    [email] = outbox
    assert KNOWN["en"].body in email.body


def test_a_translation_with_other_placeholders_falls_back_to_english(
    babel_app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An app's own catalog may name a placeholder wrong: the English is used and the
    mistake logged, not a 500 after the invitation was sent."""
    monkeypatch.setattr(i18n, "translate", lambda string: "Envoyée à %(courriel)s.")
    with babel_app.test_request_context():
        assert i18n.gettext("Invitation sent to %(email)s.", email="a@b.c") == (
            "Invitation sent to a@b.c."
        )
        page = render_template_string(
            "{% set gettext, ngettext = kaleo_gettext, kaleo_ngettext %}"
            "{% trans who='<b>' %}Hello {{ who }}{% endtrans %}"
        )
    assert page == "Hello &lt;b&gt;"
    assert "does not fit" in caplog.text


def test_refusals_carry_codes_in_every_shape(client: FlaskClient) -> None:
    """Without Flask-Babel too: kaleo's keys stay, ``code`` and ``error_codes`` join."""
    anonymous = post_invite(client, "carol@example.com")
    assert_error(anonymous, 401, code="not_signed_in")
    signed_in(client, allocation=0)
    token = csrf_token(client)
    cases = [
        (post_invite(client, "not an address"), "invalid_email"),
        (post_invite(client, "carol@example.com"), "no_invitations_left"),
        (post_invite(client, "carol@example.com", token="forged"), "csrf"),
        (
            client.post("/invites/revoke/7", data={"csrf_token": token}, headers=speaking("en")),
            "no_such_invitation",
        ),
        (client.get("/invites/invite", headers=speaking("en")), "method_not_allowed"),
    ]
    for answer, code in cases:
        body = answer.json
        assert set(body) == {"status", "errors", "error_list", "code", "error_codes"}, body
        assert body["code"] == code, body
        assert list(body["error_codes"]) == list(body["error_list"]), body


def test_english_and_its_plurals_without_flask_babel(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("flask_kaleo.core.inviting.MESSAGE_MAX_LENGTH", 1)  # the singular
    signed_in(client)
    refused = post_invite(client, "carol@example.com", message="too long")
    # The text is what is tested: English's singular, without a catalog.
    assert_error(
        refused, 200, "message", "Keep the message under 1 character.", code="message_too_long"
    )
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert not i18n.babel_active() and i18n.current_locale() is None
        plural = ("%(num)d invitation left", "%(num)d invitations left")
        assert [i18n.ngettext(*plural, n) for n in (0, 1, 2)] == [
            "0 invitations left",
            "1 invitation left",
            "2 invitations left",
        ]
        assert i18n.gettext("Invitation sent to %(email)s.", email="a@b.c").endswith("a@b.c.")
        assert str(i18n.lazy_gettext("Email address")) == "Email address"
        page = render_template_string(
            "{% set gettext, ngettext = kaleo_gettext, kaleo_ngettext %}"
            "{% trans n=3 %}{{ n }} left{% pluralize %}{{ n }} lefts{% endtrans %}"
            " {{ 1234567|kaleo_number }}"
        )
        assert page == "3 lefts 1234567"
    page = client.get("/invites/accept/no-such-token").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "<title>Invitation not found</title>" in page


def test_flask_babel_initialised_before_kaleo(
    app: Flask, database_url: str, outbox: list[t.Any]
) -> None:
    """(``app``, the fixture's, deletes the rows afterwards.)"""
    babel_first = create_app(database_url, before_kaleo=with_babel)
    client = babel_first.test_client()
    signed_in(client)
    answer = post_invite(client, "carol@example.com", headers=speaking("fr"))
    assert answer.json["message"] == KNOWN["fr"].sent
    [email] = outbox
    assert KNOWN["fr"].subject in email.subject and KNOWN["fr"].body in email.body
    # the app's own {% trans %} keeps Flask-Babel's (default domain) callables
    with babel_first.test_request_context(headers={"Accept-Language": "fr"}):
        assert render_template_string("{% trans %}Invitation{% endtrans %}") == "Invitation"


def test_numbers_and_dates_follow_the_visitor(babel_app: Flask) -> None:
    moment = dt.datetime(2027, 3, 5, 14, 30, tzinfo=dt.timezone.utc)
    template = "{{ 1234567|kaleo_number }} | {{ moment|kaleo_datetime('long') }}"
    with babel_app.test_request_context(headers={"Accept-Language": "de"}):
        number, written = render_template_string(template, moment=moment).split(" | ")
    assert number == "1.234.567"
    assert written.startswith("5. März 2027") and written.endswith("14:30:00 UTC")
    with babel_app.test_request_context(headers={"Accept-Language": "ar"}):
        assert jinja.text_direction() == "rtl" and jinja.language_tag() == "ar"


@pytest.mark.settings(KALEO_DELIVERY="queue", KALEO_SITE_URL="https://example.org")
def test_an_email_rendered_later_uses_the_invitations_locale(
    babel_app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    queued: list[int] = []
    kaleo.delivery_queue(queued.append)
    signed_in(client)
    post_invite(client, "carol@example.com", headers=speaking("ja"))
    post_invite(client, "dave@example.com", headers=speaking("pt_BR"))
    assert outbox == [] and len(queued) == 2
    with babel_app.app_context():  # a worker: no request, no Accept-Language
        assert kaleo.deliver(queued[0]) == "delivered"
    assert KNOWN["ja"].body in outbox[0].body
    # the sweep (inline now) renders the other in Brazilian Portuguese
    reconfigure(babel_app, KALEO_DELIVERY="inline")
    result = babel_app.test_cli_runner().invoke(args=["kaleo", "deliver", "--older-than", "0"])
    assert result.exit_code == 0 and result.output.startswith("Delivered 1"), result.output
    assert KNOWN["pt_BR"].subject in outbox[1].subject
    assert KNOWN["pt_BR"].body in outbox[1].body


def test_outside_a_request_the_default_locale_is_used(app: Flask, database_url: str) -> None:
    """A worker or the CLI has no request for the app's selector to read: an invitation
    sent without one is written in the default locale, and so are refusals. (``app``,
    the fixture's, deletes the rows afterwards.)"""
    worker = create_app(
        database_url,
        KALEO_DELIVERY="queue",
        KALEO_SITE_URL="https://example.org",
        BABEL_DEFAULT_LOCALE="es",
        before_kaleo=with_babel,  # choose_locale reads the request: never called here
    )
    kaleo = kaleo_of(worker)
    queued: list[int] = []
    kaleo.delivery_queue(queued.append)
    with worker.app_context(), kaleo_mail_outbox() as outbox:
        alice = db.session.merge(signed_in(worker.test_client()))
        invitation = kaleo.invite(alice, "carol@example.com")
        assert invitation.locale is None
        with pytest.raises(Exception, match=KNOWN["es"].self_refusal):
            kaleo.invite(alice, "alice@example.com")
        assert kaleo.deliver(queued[0]) == "delivered"
    [email] = outbox
    assert KNOWN["es"].subject in email.subject and KNOWN["es"].body in email.body


def test_an_app_overrides_a_string_and_adds_a_language(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    for locale, translation in [("fr", "Pas vous !"), ("it", "Non puoi invitare te stesso.")]:
        catalog = Catalog(locale=locale, domain=i18n.DOMAIN)
        catalog.add("You cannot invite yourself.", translation)
        folder = tmp_path / locale / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with (folder / f"{i18n.DOMAIN}.mo").open("wb") as file:
            write_mo(file, catalog)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)
    Babel(app, locale_selector=lambda: request.accept_languages.best_match(["fr", "it"]))
    signed_in(client)
    for locale, expected in [("fr", "Pas vous !"), ("it", "Non puoi invitare te stesso.")]:
        refused = post_invite(client, "alice@example.com", headers=speaking(locale))
        # The text is what is tested: the app's own translation wins.
        assert_error(refused, 200, "email_address", expected, code="cannot_invite_self")
    # the shipped French strings the app did not override stay
    answer = post_invite(client, "carol@example.com", headers=speaking("fr"))
    assert answer.json["message"] == KNOWN["fr"].sent


NOTHING_IMPORTED = """
import importlib.abc
import sys
from pathlib import Path


class NotInstalled(importlib.abc.MetaPathFinder):
    # Flask-Babel and Babel as if not installed (Flask-WTF imports Flask-Babel
    # whenever it can, so being installed is enough for it to be imported)
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("flask_babel", "babel"):
            raise ModuleNotFoundError(name)
        return None


sys.meta_path.insert(0, NotInstalled())
from tests.helpers import build_schema
from tests.hostapp import create_app, db, User

url = "sqlite:///" + str(Path(sys.argv[1]) / "kaleo.sqlite")
build_schema(url)
app = create_app(url)
kaleo = app.extensions["kaleo"]
with app.test_request_context(headers={"Accept-Language": "fr"}):
    alice = User(email="alice@example.com")
    db.session.add(alice)
    db.session.commit()
    invitation = kaleo.invite(alice, "carol@example.com", force=True)
    assert invitation.locale is None
page = app.test_client().get("/invites/accept/nope").get_data(as_text=True)
assert "Invitation not found" in page
print(sorted(name for name in sys.modules if name.split(".")[0] in ("flask_babel", "babel")))
"""


def test_everything_works_without_flask_babel_installed(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", NOTHING_IMPORTED, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "[]"


def test_named_placeholders_are_filled_under_old_style_i18n(database_url: str) -> None:
    """An app that installed Jinja's i18n old-style before flask-kaleo: ``{% trans %}``
    is the template's to fill, a direct ``gettext(..., email=...)`` call kaleo's."""

    def old_style(app: Flask) -> None:
        app.jinja_env.add_extension("jinja2.ext.i18n")
        app.jinja_env.install_null_translations(newstyle=False)  # type: ignore[attr-defined]

    app = create_app(database_url, before_kaleo=old_style)
    with app.test_request_context():
        page = render_template_string(
            "{% set gettext, ngettext = kaleo_gettext, kaleo_ngettext %}"
            "{{ gettext('Resend the invitation to %(email)s', email='c@d.e') }}"
            " {% trans n=2 %}{{ n }} left{% endtrans %}"
        )
    assert page == "Resend the invitation to c@d.e 2 left"


# A button whose visible word is one message and whose aria-label another: in every
# language the label must hold the word, or speech users cannot say what they see.
LABELLED_BUTTONS = [
    ("Actions", "Actions for %(email)s"),
    ("Resend", "Resend the invitation to %(email)s"),
    ("Revoke", "Revoke the invitation to %(email)s"),
    ("Yes, revoke", "Yes, revoke the invitation to %(email)s"),
    ("Keep", "Keep the invitation to %(email)s"),
]


@pytest.mark.parametrize("locale", LOCALES)
def test_each_buttons_label_holds_its_visible_word(locale: str) -> None:
    from babel.messages.pofile import read_po

    folder = Path(i18n.__file__).parent / "translations" / locale / "LC_MESSAGES"
    with open(folder / "flask_kaleo.po", encoding="utf-8") as po:
        catalog = read_po(po)
    for word, label in LABELLED_BUTTONS:
        shown = catalog[word].string or word
        spoken = catalog[label].string or label
        assert shown.casefold() in spoken.casefold(), (locale, shown, spoken)
