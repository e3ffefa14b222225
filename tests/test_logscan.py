"""The log scan that fails a test run finds what it is for, and not ordinary lines."""

from __future__ import annotations

from tests.support.logscan import scan


def test_the_scan_finds_tokens_cookies_and_passwords_and_nothing_else(tmp_path):
    log = tmp_path / "web.log"
    log.write_text("\n".join([
        '{"message": "HTTP Request: POST http://127.0.0.1/api/v1/parse \\"HTTP/1.1 200 OK\\""}',
        '{"message": "Unauthorized: /api/v1/account", "requestId": "abc"}',
        "GET /accounts/password_reset/ 200",
        'job 1 ready in 12 ms',
        '{"message": "auth header Authorization: Bearer ed_live_AbCdEfGhIjKlMnOpQrStUvWx_1234"}',
        "upstream answered Set-Cookie: session=secret",
        "login with password=hunter22 failed",
        "demo login demo@easydown.local / demo-password",
    ]))
    found = scan([log])
    assert [f.split(":", 1)[1] for f in found] == [
        "5: an API token", "5: a bearer credential", "6: a cookie", "7: a password", "8: a password"]
