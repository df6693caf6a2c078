from tests.conftest import login
from tests.conftest import make_user
from tests.conftest import post_invite


def test_invite_ok(app, client, outbox):
    with app.app_context():
        alice = make_user("alice@example.com", allocation=2)
    login(client, alice)
    response = post_invite(client, "carol@example.com")
    assert response.json["status"] == "OK", response.json
    assert len(outbox) == 1
