"""Creating a key in Chromium: reloading the token page or posting the form twice makes one key, and the
token is still shown only once."""

from __future__ import annotations

import pytest

from accounts.models import ApiKey, User

from .test_dashboard import expect_text, sign_up, submit_for_token

pytestmark = pytest.mark.django_db(transaction=True)


def test_reloading_the_token_page_makes_no_second_key(stack, session_factory):
    customer = session_factory()
    sign_up(customer, "reload@example.com")
    page = customer.page
    user = User.objects.get(email="reload@example.com")
    customer.go("/keys/new/")
    page.fill("#id_name", "reloaded")
    token = submit_for_token(customer, "Create key", "key-token-before-reload")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.reload()  # the browser posts the form again
    assert answer.value.request.url.endswith("/keys/new/")
    page.wait_for_url("**/keys/")
    expect_text(page, "was already created, and its token shown once")
    assert token not in page.content()
    assert ApiKey.objects.filter(user=user).count() == 1


def test_a_double_submitted_form_makes_one_key(stack, session_factory):
    customer = session_factory()
    sign_up(customer, "twice@example.com")
    page = customer.page
    user = User.objects.get(email="twice@example.com")
    customer.go("/keys/new/")
    page.fill("#id_name", "clicked twice")
    # Two posts of the same form at once, as a double click gets past any script that disables the button.
    answers = page.evaluate("""async () => {
        const form = document.querySelector("form[data-once]");
        const post = () => fetch(location.href, {method: "POST", body: new FormData(form), redirect: "follow"});
        const replies = await Promise.all([post(), post()]);
        return Promise.all(replies.map(async r => ({redirected: r.redirected, text: await r.text()})));
    }""")
    shown = [a for a in answers if "It will not be shown again" in a["text"]]
    assert len(shown) == 1 and sum(a["redirected"] for a in answers) == 1
    assert ApiKey.objects.filter(user=user).count() == 1
    key = ApiKey.objects.get(user=user)
    assert key.name == "clicked twice" and key.masked_token.split("…")[0] in shown[0]["text"]


def test_admin_pages_log_no_console_errors(stack, session_factory):
    from .test_dashboard import admin_log_in

    admin = session_factory()
    errors: list[str] = []
    admin.page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    admin.page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    admin_log_in(admin)
    for path in ("/admin/", "/admin/accounts/user/", "/admin/billing/ledgerentry/", "/admin/parsing/parsejob/"):
        admin.go(path)
        admin.page.wait_for_load_state("networkidle")
    assert errors == []
