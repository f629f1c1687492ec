"""Micro-benchmark: CPU time to build and flatten one receipt email, as the worker does.

It reads the outbox rows of a database that bench/receipts.py filled (city311_bench_receipts
by default), then builds each row's message with `mail.build_message` and flattens it to
bytes as smtplib.send_message does (BytesGenerator, CRLF), `--rounds` times over, and prints
the process CPU time (time.process_time) per message, split into build and flatten.

    .venv/bin/python bench/build_message.py --db city311_bench_receipts

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from email.generator import BytesGenerator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="city311_bench_receipts")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = f"{args.pg}/{args.db}"
    os.environ.setdefault("DATABASE_URL", url)
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.notifications import mail
    from app.notifications.models import Outbox
    from app.requests.models import ServiceRequest

    # development, as bench/receipts.py drains (templates are checked for changes there)
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.test_request_context():
        rows = db.session.scalars(
            select(Outbox).where(Outbox.event == "receipt").order_by(Outbox.id).limit(args.rows)
        ).all()
        held = db.session.scalars(  # noqa: F841 (kept in the identity map, as a drain does)
            select(ServiceRequest).where(ServiceRequest.id.in_([r.request_id for r in rows]))
        ).all()
        mail.build_message(rows[0])  # templates compiled, caches warm
        build = flatten = 0.0
        size = 0
        for _ in range(args.rounds):
            for row in rows:
                t0 = time.process_time()
                msg = mail.build_message(row)
                t1 = time.process_time()
                out = io.BytesIO()
                BytesGenerator(out).flatten(msg, linesep="\r\n")
                t2 = time.process_time()
                build += t1 - t0
                flatten += t2 - t1
                size += len(out.getvalue())
        n = len(rows) * args.rounds
    print(f"{n} messages ({size // n} bytes each)")
    print(f"  build_message  {build * 1000 / n:.3f} ms CPU/message")
    print(f"  flatten        {flatten * 1000 / n:.3f} ms CPU/message")
    print(f"  together       {(build + flatten) * 1000 / n:.3f} ms CPU/message")
    load = os.getloadavg()
    print(f"  load average   {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
