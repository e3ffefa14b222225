"""The client address per-IP limits count against: a proxy header is believed only from a trusted proxy."""

import pytest
from django.test import RequestFactory

from easydown.ratelimits import client_ip


@pytest.fixture
def request_from():
    def build(remote: str, **headers: str):
        return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)

    return build


def test_without_a_configured_header_only_the_socket_address_counts(settings, request_from):
    settings.CLIENT_IP_HEADER = None
    assert client_ip(request_from("198.51.100.7", HTTP_X_REAL_IP="203.0.113.9",
                                  HTTP_X_FORWARDED_FOR="203.0.113.9")) == "198.51.100.7"


def test_the_header_is_believed_from_a_trusted_proxy(settings, request_from):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    settings.TRUSTED_PROXIES = ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
    assert client_ip(request_from("127.0.0.1", HTTP_X_REAL_IP="203.0.113.9")) == "203.0.113.9"
    assert client_ip(request_from("10.1.2.3", HTTP_X_REAL_IP="203.0.113.10")) == "203.0.113.10"
    assert client_ip(request_from("::1", HTTP_X_REAL_IP="2001:db8::1")) == "2001:db8::1"


def test_the_header_is_ignored_from_anyone_else(settings, request_from):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    assert client_ip(request_from("198.51.100.7", HTTP_X_REAL_IP="203.0.113.9")) == "198.51.100.7"
    assert client_ip(request_from("not-an-address", HTTP_X_REAL_IP="203.0.113.9")) == "not-an-address"


def test_a_forwarded_chain_counts_the_address_the_trusted_proxy_saw(settings, request_from):
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    # The client wrote the first entry itself; the proxy appended the address it saw.
    assert client_ip(request_from("127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")) == "198.51.100.7"
