"""The address guard and the signature helper on their own."""

from __future__ import annotations

import time
from typing import Any

import pytest

from parley.integrations import signing, ssrf


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("https://192.168.0.10/hook", "private"),
        ("http://172.16.5.4:8080/", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "private"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://100.64.1.1/", "non-public"),
        ("http://127.0.0.1:8000/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://localhost/", "localhost (127.0.0.1) is a loopback address"),
        ("ftp://example.com/", "must start with https://"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https:///nohost", "no host"),
    ],
)
def test_refused(url: str, why: str, settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    with pytest.raises(ssrf.RefusedAddress, match=why.replace("(", r"\(").replace(")", r"\)")):
        ssrf.check_url(url)


def test_loopback_allowed_by_the_setting_only(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    assert [str(a) for a in ssrf.check_url("http://127.0.0.1:9/x")] == ["127.0.0.1"]
    # The setting allows loopback, nothing else private.
    with pytest.raises(ssrf.RefusedAddress, match="private"):
        ssrf.check_url("http://10.0.0.1/")


def test_a_public_address_passes() -> None:
    # An IP literal: no DNS needed (the machine has no network).
    assert [str(a) for a in ssrf.check_url("https://93.184.216.34/hooks")] == ["93.184.216.34"]


def test_an_unknown_name_is_unresolvable() -> None:
    with pytest.raises(ssrf.Unresolvable, match="could not be resolved"):
        ssrf.check_url("https://no-such-host.invalid/hook")


def test_verify_accepts_any_listed_secret_and_refuses_old_timestamps() -> None:
    body = b'{"id":"e1","type":"ping"}'
    header = signing.sign(["whsec_new", "whsec_old"], body)
    assert signing.verify(secret="whsec_new", body=body, header=header)
    assert signing.verify(secret="whsec_old", body=body, header=header)
    assert not signing.verify(secret="whsec_other", body=body, header=header)
    assert not signing.verify(secret="whsec_new", body=body + b" ", header=header)
    stale = signing.sign(["whsec_new"], body, timestamp=int(time.time()) - 3600)
    assert not signing.verify(secret="whsec_new", body=body, header=stale)
    assert signing.verify(secret="whsec_new", body=body, header=stale, tolerance=7200)
    assert not signing.verify(secret="whsec_new", body=body, header="garbage")
    assert not signing.verify(secret="whsec_new", body=body, header="t=1")
