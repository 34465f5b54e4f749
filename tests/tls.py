"""A throwaway self-signed certificate for test servers, and the SSL contexts on both sides.

Made with the `openssl` command because the `cryptography` package is not a dependency; the
certificate names both `localhost` and `127.0.0.1` so that clients verify it as they would a real
relay's, with hostname checking left on.
"""

from __future__ import annotations

import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """What a client needs to trust this certificate, and nothing else."""
        return ssl.create_default_context(cafile=str(self.cert))


def self_signed_certificate(directory: Path) -> Certificate:
    certificate = Certificate(directory / "cert.pem", directory / "key.pem")
    command = [
        "openssl", "req", "-x509", "-nodes", "-days", "2",
        # An EC key takes milliseconds to make; RSA would slow every test run down.
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", str(certificate.key), "-out", str(certificate.cert),
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return certificate
