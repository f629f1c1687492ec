"""The holiday calendar: service verbs, `flask holidays`, the admin page, and due times."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.sla import service
from app.sla.models import Holiday
from tests.helpers import sign_in


def test_add_list_rename_and_remove(db_session) -> None:
    service.add_holiday("2026-12-25", "Christmas")
    service.add_holiday(date(2026, 7, 3), "Independence Day (observed)")
    service.add_holiday("2026-12-25", "Christmas Day")  # renames, no second row
    assert [(h.day, h.name) for h in service.list_holidays()] == [
        (date(2026, 7, 3), "Independence Day (observed)"),
        (date(2026, 12, 25), "Christmas Day"),
    ]
    assert [h.name for h in service.list_holidays(2027)] == []
    service.remove_holiday("2026-07-03")
    assert [h.day for h in service.list_holidays()] == [date(2026, 12, 25)]


@pytest.mark.parametrize("bad", ["25/12/2026", "2026-13-01", "tomorrow", ""])
def test_a_date_that_does_not_parse_is_refused(db_session, bad: str) -> None:
    with pytest.raises(DomainError, match="YYYY-MM-DD"):
        service.add_holiday(bad, "Holiday")
    assert service.list_holidays() == []


def test_removing_a_day_that_is_no_holiday_is_404(db_session) -> None:
    with pytest.raises(NotFound, match="no holiday on 2026-12-24"):
        service.remove_holiday("2026-12-24")


def test_load_is_all_or_nothing(db_session) -> None:
    good = "date,name\n2026-12-25,Christmas Day\n2027-01-01,New Year's Day\n"
    assert service.load_holidays(io.StringIO(good)) == 2
    with pytest.raises(DomainError, match="Line 3"):
        service.load_holidays(io.StringIO("2026-11-26,Thanksgiving\n# comment\nnot-a-date,x\n"))
    db.session.rollback()  # what the command and page do with a refused file
    days = db.session.scalars(select(Holiday.day).order_by(Holiday.day)).all()
    assert date(2026, 11, 26) not in days


def test_business_day_due_times_skip_holidays(app, db_session) -> None:
    tz = ZoneInfo(app.config["CITY_TIMEZONE"])
    made = datetime(2026, 12, 21, 10, 0, tzinfo=tz)  # Monday before Christmas
    assert service.due_at(made, 5, "business_days") == datetime(2026, 12, 28, 10, 0, tzinfo=tz)
    service.add_holiday("2026-12-25", "Christmas Day")
    assert service.due_at(made, 5, "business_days") == datetime(2026, 12, 29, 10, 0, tzinfo=tz)
    # calendar hours run through holidays and nights
    assert service.due_at(made, 72, "hours") == made + timedelta(hours=72)


def test_commands(app, db_session, tmp_path) -> None:
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["holidays", "add", "2026-12-25", "Christmas Day"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(args=["holidays", "add", "12/25/2026", "Christmas Day"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    csv_file = tmp_path / "holidays.csv"
    csv_file.write_text("date,name\n2027-01-01,New Year's Day\n2027-01-18,MLK Day\n")
    loaded = runner.invoke(args=["holidays", "load", str(csv_file)])
    assert "Loaded 2 holidays" in loaded.output
    listed = runner.invoke(args=["holidays", "list", "--year", "2027"]).output
    assert "2027-01-01  Fri  New Year's Day" in listed and "2026-12-25" not in listed
    removed = runner.invoke(args=["holidays", "remove", "2027-01-18"])
    assert removed.exit_code == 0
    missing = runner.invoke(args=["holidays", "remove", "2027-01-18"])
    assert missing.exit_code != 0 and "no holiday" in missing.output


def test_admin_page(client, city, db_session) -> None:
    sign_in(client, city.users["admin"])
    page = client.get("/admin/holidays")
    assert page.status_code == 200 and "Holiday calendar" in page.text
    added = client.post("/admin/holidays", data={"date": "2026-12-25", "name": "Christmas Day"})
    assert added.status_code == 302
    assert "Christmas Day" in client.get("/admin/holidays").text
    refused = client.post("/admin/holidays", data={"date": "Dec 25", "name": "Christmas Day"})
    assert refused.status_code == 400 and "YYYY-MM-DD" in refused.text
    upload = client.post(
        "/admin/holidays/load",
        data={"file": (io.BytesIO(b"2027-01-01,New Year's Day\nbad,row\n"), "h.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 400 and "Line 2" in upload.text
    assert "New Year" not in client.get("/admin/holidays").text
    removed = client.post("/admin/holidays/2026-12-25/delete")
    assert removed.status_code == 302
    assert service.list_holidays() == []


def test_only_admins_keep_the_calendar(client, city, db_session) -> None:
    sign_in(client, city.users["dispatcher"])
    assert client.get("/admin/holidays").status_code == 403
    assert (
        client.post("/admin/holidays", data={"date": "2026-12-25", "name": "X"}).status_code == 403
    )
    assert service.list_holidays() == []
