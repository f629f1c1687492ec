"""`flask import requests`: the mapping rules, idempotency, bad rows and whole batches.

Small exports written by each test, against the standard test city (wards around Boston).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from app.extensions import db
from app.imports import kcmo, la, nyc
from app.imports.rows import closure_from_words
from app.org.models import Department
from app.requests.models import ServiceType
from tests.imports.helpers import (
    BOSTON_HEADER,
    boston_row,
    counts,
    imported,
    run_import,
    write_csv,
)

BOSTON = ZoneInfo("America/New_York")


def test_boston_rows_keep_times_status_closure_sla_channel_and_place(app, city, tmp_path):
    path = write_csv(
        tmp_path / "boston.csv",
        BOSTON_HEADER,
        [
            boston_row("101", closure_reason="Case Closed Duplicate of Existing Case "),
            boston_row(
                "102",
                case_status="Open",
                closed_dt="",
                source="Citizens Connect App",
                latitude="42.32",
                longitude="-71.02",
            ),
            # City Hall: the old system's "no location"
            boston_row("103", latitude="42.3594", longitude="-71.0587", source="Twitter"),
            boston_row("104", latitude="0", longitude="0", target_dt=""),
            boston_row("105", latitude="40.71", longitude="-74.00", source="Employee Generated"),
        ],
    )
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    assert "5 imported (3 with the location unknown)" in result.output
    rows = imported()

    closed = rows["101"]
    # Boston local time (EDT in July) to UTC
    assert closed.requested_at == datetime(2011, 7, 1, 13, 30, tzinfo=UTC)
    assert closed.due_at == datetime(2011, 7, 3, 9, 30, tzinfo=BOSTON)
    assert closed.closed_at == datetime(2011, 7, 2, 10, 0, tzinfo=BOSTON)
    assert (closed.status, closed.closure_reason) == ("closed", "duplicate")
    assert closed.closure_note == "Duplicate of Existing Case"
    assert (closed.channel, closed.district_id) == ("phone", city.ward1.id)
    assert [e.kind for e in closed.events] == ["created", "closed"]
    assert closed.events[0].data["source_channel"] == "Constituent Call"

    still_open = rows["102"]
    assert (still_open.status, still_open.closed_at, still_open.closure_reason) == (
        "new",
        None,
        None,
    )
    assert (still_open.channel, still_open.district_id) == ("mobile", city.ward2.id)

    # placeholder, 0/0 and outside every ward: kept, counted, placed nowhere
    for case in ("103", "104", "105"):
        assert (rows[case].location, rows[case].district_id) == (None, None), case
    assert (rows["103"].channel, rows["105"].channel) == ("social", "staff")
    # no due time recorded: the type's SLA gives it
    assert rows["104"].due_at > rows["104"].requested_at

    # department matched by the export's code, created with the export's name; type by name
    dept = db.session.scalar(select(Department).where(Department.code == "PWDx"))
    assert dept.name == "Public Works Department"
    st = db.session.scalar(
        select(ServiceType).where(ServiceType.name == "Request for Pothole Repair")
    )
    assert (st.department_id, st.group) == (dept.id, "Highway Maintenance")
    assert {sr.service_type_id for sr in rows.values()} == {st.id}


def test_types_and_departments_already_there_are_matched_not_copied(app, city, tmp_path):
    path = write_csv(
        tmp_path / "b.csv",
        BOSTON_HEADER,
        [boston_row("1", type="pothole", department="pwd", subject="Anything")],
    )
    assert run_import(app, path).exit_code == 0
    sr = imported()["1"]
    assert (sr.service_type_id, sr.department_id) == (city.pothole.id, city.public_works.id)
    assert db.session.scalar(select(func.count()).select_from(Department)) == 2


def test_importing_twice_adds_nothing(app, city, tmp_path):
    path = write_csv(tmp_path / "b.csv", BOSTON_HEADER, [boston_row(str(n)) for n in range(1, 8)])
    first = run_import(app, path, "boston", "--batch-size", "3")
    assert first.exit_code == 0, first.output
    stored = counts()
    second = run_import(app, path, "boston", "--batch-size", "3")
    assert second.exit_code == 0, second.output
    assert "0 imported" in second.output and "7 imported before" in second.output
    assert counts() == stored
    assert len(imported()) == 7


def test_bad_rows_are_reported_by_line_and_the_others_imported(app, city, tmp_path):
    path = write_csv(
        tmp_path / "b.csv",
        BOSTON_HEADER,
        [
            boston_row("1"),
            boston_row("2", open_dt="July 1st"),
            boston_row("3", closed_dt=""),
            boston_row("4", latitude="north"),
            boston_row("1"),
            boston_row("6", case_status="Reopened"),
            boston_row("7", closed_dt="2011-06-30 10:00:00"),
            boston_row("8"),
        ],
    )
    errors = tmp_path / "errors.csv"
    result = run_import(app, path, "boston", "--errors", str(errors))
    assert result.exit_code == 0, result.output
    assert "2 imported" in result.output and "6 bad" in result.output
    assert set(imported()) == {"1", "8"}
    assert "line 3 (case 2): open_dt 'July 1st' is not a date and time" in result.output
    assert "line 4 (case 3): the case is closed but closed_dt is empty" in result.output
    assert "line 5 (case 4): latitude 'north' is not a number" in result.output
    assert "line 6 (case 1): the case number is already on line 2" in result.output
    assert "line 7 (case 6): case_status 'reopened' is neither Open nor Closed" in result.output
    assert "line 8 (case 7): closed_dt 2011-06-30 10:00 is before the case was opened" in (
        result.output
    )
    with errors.open(newline="") as fh:
        listed = list(csv.DictReader(fh))
    assert [(r["line"], r["case_id"]) for r in listed] == [
        ("3", "2"),
        ("4", "3"),
        ("5", "4"),
        ("6", "1"),
        ("7", "6"),
        ("8", "7"),
    ]


def test_a_row_with_fields_missing_is_bad_not_misread(app, city, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(",".join(BOSTON_HEADER) + "\n9,2011-07-01 09:30:00,,\n", encoding="utf-8")
    result = run_import(app, path)
    assert "line 2 (case 9): 4 fields where the header has 18" in result.output
    assert counts() == (0, 0)


def test_a_missing_column_is_named_and_nothing_is_stored(app, city, tmp_path):
    header = [c for c in BOSTON_HEADER if c != "open_dt"]
    path = write_csv(tmp_path / "b.csv", header, [boston_row("1")])
    before = counts()
    result = run_import(app, path)
    assert result.exit_code == 1
    assert "b.csv is not a boston export: it lacks the column 'open_dt'" in result.output
    assert counts() == before


def test_a_file_of_another_format_is_refused_before_any_row(app, city, tmp_path):
    header = list(nyc.REQUIRED)
    path = write_csv(tmp_path / "nyc.csv", header, [dict.fromkeys(header, "x")])
    before = (counts(), db.session.scalar(select(func.count()).select_from(Department)))
    result = run_import(app, path, "boston")
    assert result.exit_code == 1
    assert "lacks the columns 'case_enquiry_id', 'open_dt'" in result.output
    assert "It looks like --format nyc." in result.output
    assert (counts(), db.session.scalar(select(func.count()).select_from(Department))) == before


def test_without_districts_the_import_says_to_load_them(app, db_session, tmp_path):
    path = write_csv(tmp_path / "b.csv", BOSTON_HEADER, [boston_row("1")])
    result = run_import(app, path)
    assert result.exit_code == 1
    assert "No districts of kind 'ward' are loaded" in result.output
    assert counts() == (0, 0)


def test_a_batch_the_database_refuses_leaves_nothing_of_it(app, city, tmp_path):
    """Batches of 2: the second holds a row the database refuses; the others are stored."""
    # a rule of the database the importer does not know about, for this test only
    db.session.execute(
        text(
            "ALTER TABLE service_requests ADD CONSTRAINT test_refused "
            "CHECK (description <> 'refused')"
        )
    )
    path = write_csv(
        tmp_path / "b.csv",
        BOSTON_HEADER,
        [
            boston_row("1"),
            boston_row("2"),
            # a type first met in the refused batch, and again after it
            boston_row("3", type="Sidewalk Repair"),
            boston_row("4", case_title="refused"),
            boston_row("5", type="Sidewalk Repair"),
            boston_row("6"),
        ],
    )
    result = run_import(app, path, "boston", "--batch-size", "2")
    assert result.exit_code == 1
    assert "4 imported" in result.output and "2 in batches not stored" in result.output
    assert "lines 4–5 (2 rows) not stored: " in result.output
    assert "test_refused" in result.output
    rows = imported()
    assert set(rows) == {"1", "2", "5", "6"}
    # neither the rows nor their events nor the type they brought were half kept
    orphans = db.session.scalar(
        text(
            "SELECT count(*) FROM request_events e "
            "LEFT JOIN service_requests r ON r.id = e.request_id WHERE r.id IS NULL"
        )
    )
    assert orphans == 0
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ServiceType)
            .where(ServiceType.name == "Sidewalk Repair")
        )
        == 1
    )
    assert rows["5"].service_type.name == "Sidewalk Repair"


def test_closure_words_map_to_our_reasons():
    assert closure_from_words("Case Closed Case Resolved replaced fuse") == "fixed"
    assert closure_from_words("Case Closed Duplicate of Existing Case") == "duplicate"
    assert closure_from_words("Case Closed Case Noted nothing to do") == "no_action_needed"
    assert closure_from_words("Case Closed Case Invalid wrong type") == "no_action_needed"
    assert closure_from_words("Case Closed Case Referred to External Agency") == "referred"
    assert closure_from_words("ROA: Refer to other agency") == "referred"
    assert closure_from_words("The Police Department ... observed no evidence") == (
        "no_action_needed"
    )
    assert closure_from_words("Inspector could not locate the condition") == "could_not_locate"


# ---------------------------------------------------------------------------------------------
# the other formats' rows: each city's times, words and quirks


def test_nyc_row_mapping():
    row = dict.fromkeys(nyc.REQUIRED, "")
    row.update(
        {
            "unique key": "26984072",
            "created date": "12/25/2013 11:59:08 PM",
            "closed date": "12/26/2013 01:15:00 AM",
            "agency": "NYPD",
            "agency name": "New York City Police Department",
            "complaint type": "Blocked Driveway",
            "descriptor": "No Access",
            "status": "Closed",
            "due date": "12/26/2013 07:59:08 AM",
            "resolution description": "The Police Department responded and upon arrival "
            "those responsible for the condition were gone.",
            "open data channel type": "ONLINE",
            "latitude": "",
            "longitude": "",
        }
    )
    parsed = nyc.FORMAT.parse(row)
    ny = ZoneInfo("America/New_York")
    assert parsed.requested_at == datetime(2013, 12, 25, 23, 59, 8, tzinfo=ny)
    assert parsed.due_at == datetime(2013, 12, 26, 7, 59, 8, tzinfo=ny)
    assert (parsed.closure_reason, parsed.channel) == ("no_action_needed", "web")
    assert (parsed.department_code, parsed.department_name) == ("NYPD", row["agency name"])
    assert (parsed.lat, parsed.long) == (0.0, 0.0)  # blank: the location is unknown
    row.update(status="Assigned", **{"open data channel type": "UNKNOWN"})
    parsed = nyc.FORMAT.parse(row)
    assert (parsed.closed_at, parsed.closure_reason, parsed.channel) == (None, None, "import")


def test_kcmo_row_mapping():
    row = dict.fromkeys(kcmo.REQUIRED, "")
    row.update(
        {
            "case id": "2020002530",
            "source": "TWIR",
            "department": "Public Works",
            "category": "Streets / Roadways / Alleys",
            "type": "Pothole",
            "creation date": "1/7/20",
            "creation time": "12:59 PM",
            "status": "RESOL",
            "closed date": "2/12/20",
            "latitude": "39.014495",
            "longitude": "-94.527365",
        }
    )
    parsed = kcmo.FORMAT.parse(row)
    kc = ZoneInfo("America/Chicago")
    assert parsed.requested_at == datetime(2020, 1, 7, 12, 59, tzinfo=kc)
    assert parsed.closed_at == datetime(2020, 2, 12, tzinfo=kc)
    assert (parsed.closure_reason, parsed.channel, parsed.due_at) == ("fixed", "social", None)
    assert (parsed.department_code, parsed.department_name) == ("", "Public Works")
    # closed the day it opened, by date only: closed when it opened, not before
    row["closed date"] = "1/7/20"
    assert kcmo.FORMAT.parse(row).closed_at == parsed.requested_at
    # resolved without a closing date, but with its days to close
    row.update({"closed date": "", "days to close": "3"})
    assert kcmo.FORMAT.parse(row).closed_at == datetime(2020, 1, 10, 12, 59, tzinfo=kc)


def test_la_row_mapping():
    row = {c: "" for c in la.REQUIRED}
    row.update(
        {
            "srnumber": "1-1523590121",
            "createddate": "2020-01-01 00:05:00",
            "updateddate": "2020-01-02 08:43:00",
            "owner": "BOS",
            "requesttype": "Illegal Dumping Pickup",
            "status": "Cancelled",
            "requestsource": "Driver Self Report",
            "latitude": "34.19402846",
            "longitude": "-118.4994716",
        }
    )
    parsed = la.FORMAT.parse(row)
    los_angeles = ZoneInfo("America/Los_Angeles")
    assert parsed.requested_at == datetime(2020, 1, 1, 0, 5, tzinfo=los_angeles)
    # cancelled without a closing date: closed when last updated, as nothing to do
    assert parsed.closed_at == datetime(2020, 1, 2, 8, 43, tzinfo=los_angeles)
    assert (parsed.closure_reason, parsed.channel) == ("no_action_needed", "staff")
    assert parsed.department_name == "Bureau of Sanitation"
    row.update(status="Closed", closeddate="01/03/2020 12:00:00 AM")
    assert la.FORMAT.parse(row).closure_reason == "fixed"
