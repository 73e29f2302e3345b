"""Reading typed times in a zone: UTC instants, DST gaps and folds, offsets, the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from parley.core.errors import ActionError
from parley.scheduled import when
from parley.scheduled.tests.helpers import at, last_sunday, next_year, nth_sunday


def test_wall_times_in_berlin_and_new_york_become_the_right_utc() -> None:
    y = next_year()
    cases = [
        ("Europe/Berlin", datetime(y, 1, 15, 9, 0), datetime(y, 1, 15, 8, 0)),  # CET +1
        ("Europe/Berlin", datetime(y, 7, 15, 9, 0), datetime(y, 7, 15, 7, 0)),  # CEST +2
        ("America/New_York", datetime(y, 1, 15, 9, 0), datetime(y, 1, 15, 14, 0)),  # EST -5
        ("America/New_York", datetime(y, 7, 15, 9, 0), datetime(y, 7, 15, 13, 0)),  # EDT -4
        ("UTC", datetime(y, 7, 15, 9, 0), datetime(y, 7, 15, 9, 0)),
    ]
    for zone_name, wall, utc in cases:
        resolved = when.read_local(wall, zone_name)
        assert resolved.send_at == utc.replace(tzinfo=UTC), zone_name
        assert resolved.local == wall and resolved.zone_name == zone_name
        assert resolved.note == ""


def test_a_time_in_the_spring_forward_gap_is_refused_naming_the_gap() -> None:
    y = next_year()
    berlin = at(last_sunday(y, 3), 2, 30)
    with pytest.raises(ActionError) as caught:
        when.read_local(berlin, "Europe/Berlin")
    assert caught.value.code == "nonexistent_time" and caught.value.field == "send_at"
    message = caught.value.message
    assert "02:30 does not exist" in message
    assert "from 02:00 to 03:00 (CET to CEST)" in message
    assert "01:59 or earlier, or 03:00 or later" in message

    new_york = at(nth_sunday(y, 3, 2), 2, 15)
    with pytest.raises(ActionError) as caught:
        when.read_local(new_york, "America/New_York")
    assert "from 02:00 to 03:00 (EST to EDT)" in caught.value.message
    # Either side of the gap is fine.
    assert when.read_local(at(last_sunday(y, 3), 1, 59), "Europe/Berlin").send_at.hour == 0
    assert when.read_local(at(last_sunday(y, 3), 3, 0), "Europe/Berlin").send_at.hour == 1


def test_an_ambiguous_fall_back_time_takes_the_first_occurrence_and_says_so() -> None:
    y = next_year()
    day = last_sunday(y, 10)
    resolved = when.read_local(at(day, 2, 30), "Europe/Berlin")
    # 02:30 CEST (+2) is 00:30 UTC; the second 02:30 (CET) would be 01:30 UTC.
    assert resolved.send_at == datetime(y, 10, day.day, 0, 30, tzinfo=UTC)
    assert (
        "happens twice" in resolved.note and "first time, 02:30 CEST (00:30 UTC)" in resolved.note
    )
    assert "02:30 CET (01:30 UTC)" in resolved.note

    ny_day = nth_sunday(y, 11, 1)
    resolved = when.read_local(at(ny_day, 1, 30), "America/New_York")
    assert resolved.send_at == datetime(y, 11, ny_day.day, 5, 30, tzinfo=UTC)  # EDT, -4
    assert "01:30 EDT" in resolved.note


def test_an_explicit_offset_is_exact_and_remembered() -> None:
    y = next_year()
    typed = datetime(y, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    resolved = when.read_input(typed, "Europe/Berlin")
    assert resolved.send_at == datetime(y, 3, 1, 3, 30, tzinfo=UTC)
    assert resolved.zone_name == "UTC+05:30"
    assert when.read_input(datetime(y, 3, 1, 9, 0, tzinfo=UTC), "Europe/Berlin").zone_name == "UTC"
    # Without an offset the workspace's zone applies.
    assert when.read_input(datetime(y, 3, 1, 9, 0), "Europe/Berlin").send_at.hour == 8


def test_a_time_in_the_past_is_refused_with_the_time_now() -> None:
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    when.refuse_past(now - timedelta(seconds=3), "Europe/Berlin", now=now)  # just submitted
    with pytest.raises(ActionError) as caught:
        when.refuse_past(now - timedelta(minutes=1), "Europe/Berlin", now=now)
    assert caught.value.code == "in_the_past"
    assert "it is now Tue 1 Jan 2030, 13:00 CET" in caught.value.message


def test_labels_carry_the_zone_abbreviation() -> None:
    instant = datetime(2030, 7, 1, 7, 0, tzinfo=UTC)
    assert when.label(instant, when.zone("Europe/Berlin")) == "Mon 1 Jul 2030, 09:00 CEST"
    assert when.label(instant, when.zone("America/New_York")) == "Mon 1 Jul 2030, 03:00 EDT"
    assert when.zone("Not/AZone").key == "UTC"


def test_the_contact_zone_comes_from_a_number_with_one_zone() -> None:
    berlin = when.contact_zone("4915112345678")
    assert berlin is not None and berlin.key == "Europe/Berlin"
    new_york = when.contact_zone("+12125551234")
    assert new_york is not None and new_york.key == "America/New_York"
    assert when.contact_zone("34612345678") is None  # Spain: mainland or Canaries
    assert when.contact_zone("not a number") is None
