"""A Spanish-speaking resident who asks for texts, through gunicorn and a real rq worker."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import LiveStack, token_for
from tests.e2e.test_loop import _wait_for_mail
from tests.factories import WARD_2_POINT

pytestmark = pytest.mark.e2e


def _wait_for_texts(directory: Path, count: int, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(directory.glob("*.txt"))
        if len(found) >= count:
            time.sleep(1)  # a duplicate would show up by now
            return [path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.txt"))]
        time.sleep(0.2)
    raise AssertionError(f"{count} texts expected in {directory}, got {len(found)}")


def test_a_resident_gets_the_receipt_and_closure_by_text_and_email_in_spanish(
    live_stack: LiveStack, mailbox
):
    resident = "vecina@example.org"
    with live_stack.client() as http:
        resp = http.post(
            "/api/v1/requests",
            json={
                "service_code": "pothole",
                "description": "Bache profundo en el carril de bicicletas",
                "lat": WARD_2_POINT[0],
                "long": WARD_2_POINT[1],
                "email": resident,
                "phone": "(617) 555-0142",
                "notify": "both",
            },
            headers={"Accept-Language": "es-US,es;q=0.9,en;q=0.5"},
        )
    assert resp.status_code == 201, resp.text
    request_id = resp.json()["id"]
    texts = Path(live_stack.env["SMS_OUTBOX_DIR"])
    link = f"{live_stack.base_url}/r/{request_id}"

    [receipt] = _wait_for_texts(texts, 1)
    assert receipt == (
        f"To: +16175550142\n\nCity of Riverton: recibimos su reporte {request_id}. "
        f"Sigalo aqui: {link}\n"
    )
    mail = _wait_for_mail(mailbox, resident, f"Recibimos su reporte {request_id}")
    assert mail["Content-Language"] == "es"

    dispatcher = token_for(live_stack, "dispatcher@city.test")
    with live_stack.client(dispatcher) as http:
        resp = http.post(
            f"/api/v1/requests/{request_id}/close",
            json={"reason": "could_not_locate", "note": "No encontramos el bache."},
        )
    assert resp.status_code == 200, resp.text

    receipt_again, closure = _wait_for_texts(texts, 2)
    assert receipt_again == receipt  # each text once
    assert closure == (
        f"To: +16175550142\n\nCity of Riverton: su solicitud {request_id} se cerro: "
        f"no se encontro el problema. {link}\n"
    )
    _wait_for_mail(mailbox, resident, f"Su solicitud {request_id} se cerró")
