"""The providers' own endpoints, on top of the test's token server (tests/oauth_server.py), for
the `microsoft` and `google` providers and `mentormail oauth-login`.

Microsoft's and Google's clouds cannot run here, so their libraries are pointed at this loopback
server instead, as an operator points them at a national cloud: msal at an `authority` (it
insists on https and reads the OpenID configuration first), google-auth at a key file's
`token_uri`. A second listener, over TLS (a throwaway certificate the daemon is told to trust by
`REQUESTS_CA_BUNDLE`, which both libraries' HTTP client reads), shares the token server's state:
the tokens it issues are the ones Dovecot and the relay then check by introspection.

- `GET /TENANT/v2.0/.well-known/openid-configuration`: msal's tenant discovery.
- `POST /TENANT/oauth2/v2.0/token`: the client-credentials grant with a client secret (form
  fields) or a certificate (a client assertion: a JWT signed with the certificate's key, whose
  `x5t` header is the certificate's thumbprint), as Entra ID takes them.
- `POST /google/token`: the JWT-bearer grant (RFC 7523) of a service account's signed assertion
  (the `sub` it acts as must be one the account is delegated for), the refresh-token grant, and
  the authorization-code grant with PKCE (RFC 7636) for oauth-login.
- `GET /authorize`: an authorization endpoint that signs the test's user in at once and sends the
  browser back to the client's loopback `redirect_uri` with a code, as a consent screen would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from oauth_server import Client, Issued, TokenServer
from tls import Certificate, self_signed_certificate

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"


@dataclass
class ServiceAccount:
    email: str
    public_key: rsa.RSAPublicKey
    delegated: set[str]  # the mailboxes it may act as (the Admin console's domain-wide delegation)
    lifetime: float = 3600


@dataclass
class Grant:
    """An authorization code waiting to be exchanged."""

    client: Client
    redirect_uri: str
    challenge: str  # PKCE S256


@dataclass
class ProviderEndpoints:
    tokens: TokenServer
    certificate: Certificate  # the TLS listener's, for REQUESTS_CA_BUNDLE
    port: int = 0
    service_accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    certificates: dict[str, tuple[Client, str]] = field(default_factory=dict)  # client id -> (client, thumbprint)
    grants: dict[str, Grant] = field(default_factory=dict)
    _public_keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)  # certificate clients' keys

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def google_token_url(self) -> str:
        return f"{self.base}/google/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.base}/authorize"

    def add_service_account(self, mailbox: str, directory: Path, *, delegated: bool = True) -> Path:
        """A service account delegated for `mailbox` (or not), and its JSON key file (0600)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        email = f"sa-{secrets.token_hex(4)}@project.iam.gserviceaccount.com"
        self.service_accounts[email] = ServiceAccount(email, key.public_key(), {mailbox} if delegated else set())
        pem = _pem(key)
        info = {
            "type": "service_account",
            "project_id": "mentoring",
            "private_key_id": secrets.token_hex(20),
            "private_key": pem.decode(),
            "client_email": email,
            "client_id": "1" + secrets.token_hex(8),
            "token_uri": self.google_token_url,
        }
        path = directory / "service-account.json"
        path.write_text(json.dumps(info), encoding="utf-8")
        path.chmod(0o600)
        return path

    def add_certificate_client(self, mailbox: str, directory: Path) -> tuple[Client, Path, str]:
        """A client that proves itself with a certificate: (client, PEM file with key and
        certificate (0600), its SHA-1 thumbprint in hex)."""
        client = self.tokens.add_client(mailbox)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mentormail")])
        now = datetime.now(timezone.utc)
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256())
        )  # fmt: skip
        thumbprint = certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - what Entra ID shows
        pem = _pem(key)
        path = directory / "app-certificate.pem"
        path.write_bytes(pem + certificate.public_bytes(serialization.Encoding.PEM))
        path.chmod(0o600)
        self.certificates[client.client_id] = (client, thumbprint)
        self._public_keys[client.client_id] = key.public_key()
        return client, path, thumbprint

    # --- the endpoints -----------------------------------------------------------------------

    def discovery(self, tenant: str) -> dict[str, object]:
        return {
            "issuer": f"{self.base}/{tenant}/v2.0",
            "authorization_endpoint": f"{self.base}/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.base}/{tenant}/oauth2/v2.0/token",
        }

    def microsoft_token(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        if form.get("client_assertion_type") != CLIENT_ASSERTION:
            return self.tokens.answer_token(form, None)  # a client secret, as form fields
        client_id = form.get("client_id", "")
        known = self.certificates.get(client_id)
        try:
            header = jwt.get_unverified_header(form.get("client_assertion", ""))
            claims = jwt.decode(
                form.get("client_assertion", ""),
                self._public_keys.get(client_id),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=f"{self.base}{path}",
            )
            thumbprint = base64.urlsafe_b64decode(header["x5t"] + "==").hex().upper()
            good = known is not None and claims.get("sub") == client_id and thumbprint == known[1]
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            good = False
        if not good or known is None or known[0].revoked:
            return self._refuse(client_id, "client_credentials", 401, "invalid_client")
        return self._issue(known[0].client_id, known[0].mailbox, known[0].lifetime, "client_credentials")

    def google_token(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            return self._exchange_code(form)
        if grant != JWT_BEARER:
            return self.tokens.answer_token(form, None)  # a refresh token
        assertion = form.get("assertion", "")
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss", "")
            account = self.service_accounts[issuer]
            # google-auth makes the audience Google's token endpoint whatever the key file's
            # token_uri, as Google's own endpoint wants it.
            claims = jwt.decode(assertion, account.public_key, algorithms=["RS256"], audience=GOOGLE_AUDIENCE)
        except (jwt.PyJWTError, KeyError):
            return self._refuse(str(issuer if "issuer" in locals() else ""), grant, 400, "invalid_grant")
        if claims.get("sub") not in account.delegated or "https://mail.google.com/" not in claims.get("scope", ""):
            return self._refuse(account.email, grant, 401, "unauthorized_client")
        return self._issue(account.email, claims["sub"], account.lifetime, grant)

    def authorize(self, query: dict[str, str]) -> str:
        """Where the browser is sent back: the client's redirect_uri with a code and its state."""
        client = self.tokens.clients[query["client_id"]]
        assert query.get("response_type") == "code" and query.get("code_challenge_method") == "S256"
        assert urlsplit(query["redirect_uri"]).hostname in ("127.0.0.1", "localhost"), "a loopback redirect"
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(client, query["redirect_uri"], query["code_challenge"])
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def _exchange_code(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        grant = self.grants.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            grant is None
            or grant.client.client_id != form.get("client_id")
            or grant.client.secret != form.get("client_secret")
            or grant.redirect_uri != form.get("redirect_uri")
            or grant.challenge != challenge
        ):
            return self._refuse(form.get("client_id", ""), "authorization_code", 400, "invalid_grant")
        client = grant.client
        status, answer = self._issue(client.client_id, client.mailbox, client.lifetime, "authorization_code")
        answer["refresh_token"] = grant.client.refresh_token
        return status, answer

    def _issue(self, who: str, mailbox: str, lifetime: float, grant: str) -> tuple[int, dict[str, object]]:
        token = "tok-" + secrets.token_urlsafe(24)
        with self.tokens._lock:
            self.tokens.issued[token] = Issued(who, mailbox, time.time() + lifetime)
            self.tokens.requests.append(("token", who, grant, "200"))
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": int(lifetime)}

    def _refuse(self, who: str, grant: str, status: int, code: str) -> tuple[int, dict[str, object]]:
        with self.tokens._lock:
            self.tokens.requests.append(("token", who, grant, code))
        return status, {"error": code, "error_description": "refused by the test's provider endpoints"}


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    encoding, unencrypted = serialization.Encoding.PEM, serialization.NoEncryption()
    return key.private_bytes(encoding, serialization.PrivateFormat.PKCS8, unencrypted)


def _handler(endpoints: ProviderEndpoints) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            parts = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            segments = parts.path.strip("/").split("/")
            if parts.path == "/authorize":
                self.send_response(302)
                self.send_header("Location", endpoints.authorize(query))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif segments[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                self._json(200, endpoints.discovery(segments[0]))
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            fields = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            form = {name: values[0] for name, values in fields.items()}
            path = urlsplit(self.path).path
            if path.endswith("/oauth2/v2.0/token"):
                self._json(*endpoints.microsoft_token(path, form))
            elif path == "/google/token":
                self._json(*endpoints.google_token(form))
            else:
                self._json(404, {"error": "not_found"})

        def _json(self, code: int, answer: dict[str, object]) -> None:
            body = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture(scope="session")
def provider_endpoints(
    oauth_server: TokenServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProviderEndpoints]:
    certificate = self_signed_certificate(tmp_path_factory.mktemp("provider-tls"))
    endpoints = ProviderEndpoints(oauth_server, certificate)
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoints))
    http.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    http.socket = context.wrap_socket(http.socket, server_side=True)
    endpoints.port = http.server_address[1]
    thread = threading.Thread(target=http.serve_forever, name="provider-endpoints", daemon=True)
    thread.start()
    try:
        yield endpoints
    finally:
        http.shutdown()
        http.server_close()
