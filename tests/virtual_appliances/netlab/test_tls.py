"""The sites' TLS: certificates for the FQDN and the address, and interception by a rogue CA."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme

from .support import NO_SITE, Lab, client_context, tls_handshake


def _san(cert: dict[str, Any]) -> set[tuple[str, str]]:
    return set(cert["subjectAltName"])


def test_handshake_with_sni_verifies_against_the_lab_ca(lab: Lab) -> None:
    fqdn = "api-sse.cisco.com"
    cert = tls_handshake(lab.addr(fqdn), lab.port, fqdn, client_context(lab.ca))
    assert {("DNS", fqdn), ("IP Address", lab.addr(fqdn))} <= _san(cert)


def test_an_ip_literal_base_url_verifies_too(lab: Lab) -> None:
    address = lab.addr("est.sco.cisco.com")
    tls_handshake(address, lab.port, address, client_context(lab.ca))


def test_the_wrong_site_fails_hostname_verification(lab: Lab) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        tls_handshake(lab.addr("est.sco.cisco.com"), lab.port, "api-sse.cisco.com", client_context(lab.ca))


def test_a_client_that_does_not_trust_the_lab_ca_fails(lab: Lab) -> None:
    fqdn = "api-sse.cisco.com"
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_handshake(lab.addr(fqdn), lab.port, fqdn, _empty_trust())


def test_interception_presents_a_certificate_from_another_ca(lab: Lab) -> None:
    fqdn, ctx = "api.eu.sse.itd.cisco.com", client_context(lab.ca)
    state = lab.post("/intercept", {"fqdn": fqdn, "enabled": True})
    assert state["intercept"] == [fqdn]
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        tls_handshake(lab.addr(fqdn), lab.port, fqdn, ctx)
    # the rogue certificate still names the site, as a middlebox's forged one does
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    tls_handshake(lab.addr(fqdn), lab.port, fqdn, unverified)
    # other sites are untouched
    tls_handshake(lab.addr("api-sse.cisco.com"), lab.port, "api-sse.cisco.com", ctx)

    lab.post("/intercept", {"fqdn": fqdn, "enabled": False})
    tls_handshake(lab.addr(fqdn), lab.port, fqdn, ctx)


def test_reset_ends_interception(lab: Lab) -> None:
    fqdn, ctx = "est.sco.cisco.com", client_context(lab.ca)
    lab.post("/intercept", {"fqdn": fqdn, "enabled": True})
    lab.netlab.reset()
    tls_handshake(lab.addr(fqdn), lab.port, fqdn, ctx)
    assert lab.netlab.state()["intercept"] == []


def test_interception_needs_a_site(lab: Lab) -> None:
    status, reply = lab.control("POST", "/intercept", {"fqdn": NO_SITE, "enabled": True})
    assert status == 409 and NO_SITE in reply["error"]


def _empty_trust() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, trusts nothing


def test_the_lab_client_context_trusts_the_lab_ca_and_nothing_else(lab: Lab, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated appliances' outbound TLS: a CA of the machine's store (here SSL_CERT_FILE) must not verify."""
    public = trustme.CA(organization_name="a public CA of the machine's store")
    public.cert_pem.write_to_path(str(tmp_path / "store.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "store.pem"))
    assert ssl.create_default_context().get_ca_certs()  # the store is read: the test would catch a default context
    fqdn = "api-sse.cisco.com"
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    public.issue_cert(fqdn).configure_cert(server)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake_in_memory(lab.ca.client_context(), server, fqdn)
    lab_server = lab.ca.server_context(fqdn)
    _handshake_in_memory(lab.ca.client_context(), lab_server, fqdn)  # the lab's own certificate verifies


def _handshake_in_memory(client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext, sni: str) -> None:
    """A TLS handshake between two contexts over memory buffers (no socket): raises what the client raises."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=sni)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):  # TLS 1.3 needs two round trips; more means something is wrong
        for name, side in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return
    raise AssertionError("the in-memory handshake did not finish")
