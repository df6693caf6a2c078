"""The console's overview: the chart computed on the server, and the page around it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo.models import utcnow
from flask_kaleo.web.chart import line_chart
from flask_kaleo.web.chart import round_peak
from flask_kaleo.web.chart import value_steps
from tests.helpers import SetHook
from tests.helpers import fresh
from tests.helpers import login
from tests.helpers import make_invitation
from tests.helpers import make_user

OVERVIEW = "/invites/staff/"
DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(5)]


def test_points_spread_over_the_width_and_scale_to_a_round_peak() -> None:
    chart = line_chart(DAYS, {"sent": [0, 2, 4, 1, 7], "accepted": [0, 0, 1, 0, 3]})
    assert chart.peak == 10
    sent = chart.lines[0].coordinates
    assert [x for x, _ in sent] == [44.0, 190.0, 336.0, 482.0, 628.0]
    assert sent[0][1] == chart.bottom and sent[4][1] == pytest.approx(
        chart.bottom - 0.7 * (chart.bottom - chart.top), abs=0.1
    )
    assert chart.lines[0].points.startswith("44,212 190,")
    assert [tick.text for tick in chart.values] == ["0", "5", "10"]
    assert [tick.position for tick in chart.values] == [chart.bottom, 112.0, float(chart.top)]
    assert [tick.text for tick in chart.dates] == ["03-01", "03-02", "03-03", "03-04", "03-05"]
    assert [tick.anchor for tick in chart.dates] == ["start"] + ["middle"] * 3 + ["end"]


def test_all_zero_days_lie_on_the_baseline() -> None:
    chart = line_chart(DAYS, {"sent": [0] * 5})
    assert chart.peak == 1
    assert {y for _, y in chart.lines[0].coordinates} == {chart.bottom}
    assert [tick.text for tick in chart.values] == ["0", "1"]


def test_no_days_draw_no_line_and_one_day_a_point() -> None:
    empty = line_chart([], {"sent": []})
    assert empty.lines[0].points == "" and empty.dates == []
    single = line_chart(DAYS[:1], {"sent": [5]})
    assert single.lines[0].coordinates == [((44 + 628) / 2, float(single.top))]
    with pytest.raises(ValueError):
        line_chart(DAYS, {"sent": [1, 2]})


def test_ninety_days_name_at_most_a_few_dates() -> None:
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(90)]
    chart = line_chart(days, {"sent": list(range(90))})
    assert 2 <= len(chart.dates) <= 7 and chart.dates[0].text == "01-01"
    assert chart.dates[-1].text == "03-31"  # the last day, a whole step from the one before
    positions = [tick.position for tick in chart.dates]
    gaps = [b - a for a, b in itertools.pairwise(positions)]
    assert min(gaps) >= gaps[0] - 0.2
    assert chart.peak == 100


@pytest.mark.parametrize(
    ("largest", "peak", "steps"),
    [
        (0, 1, [0, 1]),
        (2, 2, [0, 1, 2]),
        (3, 5, [0, 1, 2, 3, 4, 5]),
        (7, 10, [0, 5, 10]),
        (11, 20, [0, 10, 20]),
        (500, 500, [0, 100, 200, 300, 400, 500]),
    ],
)
def test_the_value_axis_is_round(largest: int, peak: int, steps: list[int]) -> None:
    assert round_peak(largest) == peak
    assert value_steps(peak) == steps


@pytest.mark.all_backends
def test_overview_shows_the_funnel_and_links_what_needs_attention(
    app: Flask, client: FlaskClient, manage_hook: SetHook
) -> None:
    manage_hook(lambda user: str(user.email).startswith("staff@"))
    with app.app_context():
        staff = make_user("staff@example.com")
        alice = make_user("alice@example.com", allocation=9)
        for n in range(3):
            make_invitation(alice, f"friend{n}@example.com")
        make_invitation(alice, "lost@example.com", "undeliverable")
        fresh(staff, alice)
    login(client, staff)
    page = client.get(OVERVIEW)
    assert page.status_code == 200
    assert '<svg class="kaleo-chart"' in page.text and "<title id=" in page.text
    assert "/invites/staff/invitations?state=undeliverable" in page.text
    assert utcnow().date().isoformat() in page.text  # today's row of the data table
    assert client.get(f"{OVERVIEW}?days=90").status_code == 200
    assert client.get(f"{OVERVIEW}?days=7").status_code == 400
    login(client, alice)
    assert client.get(OVERVIEW).status_code == 403
