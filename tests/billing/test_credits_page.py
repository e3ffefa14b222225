"""The credits page says what each charge was for: the key, the link and the request id of the parse."""

from __future__ import annotations

import pytest

from billing.services import credit_capture, credit_reserve
from parsing.models import ParseJob
from tests.factories import make_key

pytestmark = pytest.mark.django_db


def test_each_charge_names_its_key_link_and_request(client):
    key, _ = make_key(credits=3, name="production server")
    job = ParseJob.objects.create(user=key.user, api_key=key, platform="youtube", input="x", state="succeeded",
                                  url="https://www.youtube.com/watch?v=charged0001", request_id="req-7f3a9c2e-0001")
    credit_reserve(user_id=key.user.pk, reference=job.reference)
    credit_capture(user_id=key.user.pk, reference=job.reference)
    client.force_login(key.user)
    page = client.get("/credits/").content.decode()
    ledger = page.split('id="ledger-table"')[1].split("</table>")[0]
    assert "production server" in ledger and "watch?v=charged0001" in ledger and "req-7f3a9c2e-0001" in ledger
    # A top-up has no parse behind it: only its note.
    assert ledger.count("charge-detail") == 1
