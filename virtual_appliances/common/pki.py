"""The lab's certificate authority: every HTTPS endpoint of the lab presents a certificate it issued.

The CA certificate is written to ``<lab dir>/ca.pem`` and named in the testbed as the CA bundle, so
clients verify the lab exactly as they verify the real cloud.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme


class LabCA:
    def __init__(self, directory: Path, organization: str = "ctrlab simulated lab") -> None:
        self._ca = trustme.CA(organization_name=organization)
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.bundle = directory / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.bundle))

    def server_context(self, *identities: str) -> ssl.SSLContext:
        """A TLS server context with a leaf certificate for host names and/or IP addresses."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(*identities).configure_cert(ctx)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A TLS client context that trusts only this lab's CA (given its CA, ``create_default_context`` leaves
        the machine's store out: a simulated appliance must not trust a certificate the lab did not issue)."""
        return ssl.create_default_context(cadata=self._ca.cert_pem.bytes().decode("ascii"))

    def rogue_server_context(self, *identities: str) -> ssl.SSLContext:
        """A context signed by an unrelated CA, as a TLS-intercepting middlebox would present."""
        rogue = trustme.CA(organization_name="intercepting proxy")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        rogue.issue_cert(*identities).configure_cert(ctx)
        return ctx

    def sign_csr_pem(self, csr_pem: bytes, days: int = 365) -> bytes:
        """Issue a client certificate for an EST enrollment request (PKCS#10, PEM)."""
        import datetime as dt

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization

        csr = x509.load_pem_x509_csr(csr_pem)
        ca_cert = x509.load_pem_x509_certificate(self._ca.cert_pem.bytes())
        ca_key = serialization.load_pem_private_key(self._ca.private_key_pem.bytes(), password=None)
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(ca_cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        return cert.public_bytes(serialization.Encoding.PEM)

    def ca_cert_pem(self) -> bytes:
        return self._ca.cert_pem.bytes()
