from sqlalchemy import func, select

from app.extensions import db
from app.geo import gazetteer
from app.geo.models import Address


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Address))


def test_load_addresses_from_csv_then_find_them(app, db_session, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text(
        "address_id,address,lat,long\n"
        "A-1,12 Main St,42.3201,-71.0802\n"
        'A-2,"40 Elm Street, Riverton",42.3301,-71.0201\n'
    )
    result = app.test_cli_runner().invoke(args=["geo", "load-addresses", str(path)])
    assert result.exit_code == 0, result.output
    assert "Loaded 2 addresses" in result.output
    found = gazetteer.find_by_text("12 MAIN ST, Riverton")
    assert (found.address_id, round(found.lat, 4), round(found.long, 4)) == (
        "A-1",
        42.3201,
        -71.0802,
    )
    assert gazetteer.find_by_id("A-2").address == "40 Elm Street, Riverton"

    # loading again replaces entries by id instead of duplicating them
    path.write_text("address_id,address,lat,long\nA-1,12 Main Street,42.3202,-71.0803\n")
    assert app.test_cli_runner().invoke(args=["geo", "load-addresses", str(path)]).exit_code == 0
    assert _count() == 2
    assert gazetteer.find_by_id("A-1").address == "12 Main Street"


def test_a_bad_row_loads_nothing_and_names_the_line(app, db_session, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text("address_id,address,lat,long\nA-1,12 Main St,42.32,-71.08\nA-2,,north,x\n")
    result = app.test_cli_runner().invoke(args=["geo", "load-addresses", str(path)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "Nothing was loaded" in result.output
    assert _count() == 0


def test_missing_columns_are_named(app, db_session, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text("id,street,y,x\n1,12 Main St,42.32,-71.08\n")
    result = app.test_cli_runner().invoke(args=["geo", "load-addresses", str(path)])
    assert result.exit_code == 1
    assert "no column address_id" in result.output
    ok = app.test_cli_runner().invoke(
        args=[
            "geo",
            "load-addresses",
            str(path),
            "--id-column",
            "id",
            "--address-column",
            "street",
            "--lat-column",
            "y",
            "--long-column",
            "x",
        ]
    )
    assert ok.exit_code == 0, ok.output
