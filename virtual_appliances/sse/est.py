"""EST (RFC 7030) at est.sco.cisco.com: the connector enrolls its device certificate here.

``GET /.well-known/est/cacerts`` answers the lab CA as a base64 certs-only PKCS#7; ``POST simpleenroll``
(and ``simplereenroll``) take a base64 DER PKCS#10 and answer the issued certificate the same way.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from ..common.pki import LabCA

PKCS7_TYPE = "application/pkcs7-mime"
MAX_CSR_BYTES = 64 * 1024


class EstServer:
    def __init__(self, ca: LabCA, on_enroll: Callable[[x509.Certificate], None] | None = None) -> None:
        self.ca = ca
        self.on_enroll = on_enroll

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/.well-known/est/cacerts", self.cacerts),
            web.post("/.well-known/est/simpleenroll", self.enroll),
            web.post("/.well-known/est/simplereenroll", self.enroll),
        ]

    async def cacerts(self, request: web.Request) -> web.Response:
        ca_cert = x509.load_pem_x509_certificate(self.ca.ca_cert_pem())
        return _pkcs7_response([ca_cert], smime_type=None)

    async def enroll(self, request: web.Request) -> web.Response:
        raw = await request.content.read(MAX_CSR_BYTES + 1)
        if len(raw) > MAX_CSR_BYTES:
            return _bad_request("the certificate request is too large")
        csr = _load_csr(raw)
        if csr is None:
            return _bad_request("the body must be a base64 DER PKCS#10 certificate request")
        if not csr.is_signature_valid:
            return _bad_request("the certificate request signature is not valid")
        issued = x509.load_pem_x509_certificate(
            self.ca.sign_csr_pem(csr.public_bytes(serialization.Encoding.PEM)))
        if self.on_enroll:
            self.on_enroll(issued)
        return _pkcs7_response([issued], smime_type="certs-only")


def _load_csr(raw: bytes) -> x509.CertificateSigningRequest | None:
    text = raw.strip()
    try:
        if text.startswith(b"-----BEGIN"):  # lenient: a PEM request is the same request
            return x509.load_pem_x509_csr(text)
        return x509.load_der_x509_csr(base64.b64decode(b"".join(text.split()), validate=True))
    except (ValueError, binascii.Error):
        return None


def _pkcs7_response(certs: list[x509.Certificate], smime_type: str | None) -> web.Response:
    der = pkcs7.serialize_certificates(certs, serialization.Encoding.DER)
    body = base64.encodebytes(der)  # base64 with line breaks, as RFC 7030 servers send it
    content_type = PKCS7_TYPE if smime_type is None else f"{PKCS7_TYPE}; smime-type={smime_type}"
    return web.Response(body=body, headers={"Content-Type": content_type, "Content-Transfer-Encoding": "base64"})


def _bad_request(message: str) -> web.Response:
    return web.Response(status=400, text=message + "\n", content_type="text/plain")
