"""Every connection the app opens runs with the settings its queries were measured with."""

from sqlalchemy import text

from app.extensions import db


def test_the_app_connections_run_without_jit(app) -> None:
    # JIT compiling took 40-360 ms on queries that run in 5: a page must not pay for it
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
        assert db.session.execute(text("SHOW jit")).scalar() == "off"
        db.session.remove()
