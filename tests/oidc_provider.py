"""A real OpenID Connect provider on 127.0.0.1 for sign-in tests (Authlib's server components in Flask).

Not a mock: discovery, the authorization code flow (with PKCE S256), RS256 id_tokens carrying the
client's nonce, a JWKS, a bearer-protected userinfo endpoint and RP-initiated logout, each done by
Authlib's own server classes. One confidential client and a fixed list of users; the login page asks
for an e-mail address and signs that user in (no passwords: the test is of the protocol, not of them).

Giving `streamlit run` its secrets without touching the project's `.streamlit/` folder: write the TOML
from `secrets_toml()` to a file in a temporary folder and pass `--secrets.files=<that file>` on the
command line (`streamlit_secrets_args()`). `secrets.files` is a list-valued config option
(streamlit/config.py, `_secrets_files`); a value given on the command line replaces the default list
(`~/.streamlit/secrets.toml` and `<cwd>/.streamlit/secrets.toml`), so neither is read, while the
process may keep its cwd at the project root and so keep the project's own `.streamlit/config.toml`.

What Streamlit 1.67 asks of a provider (read from streamlit/auth_util.py and
streamlit/web/server/starlette/starlette_auth_routes.py, and seen in tests/test_oidc_provider.py):
- `[auth]` needs `redirect_uri` and `cookie_secret`, and for the default provider `client_id`,
  `client_secret` and `server_metadata_url` (or the same three under `[auth.<name>]`, a name without "_").
- `st.user` is the id_token's claims (Authlib's parse_id_token, checking iss, aud, exp and the nonce);
  Streamlit never calls /userinfo, so `email` and `name` must be in the id_token: `st.user.email`.
- Every login asks `prompt=select_account`, so the provider shows its page even to a signed-in user.
- PKCE S256 is used only when the metadata lists it in `code_challenge_methods_supported`.
- With an `end_session_endpoint`, `st.logout()` sends the browser there with `id_token_hint` and
  `post_logout_redirect_uri` set to the redirect_uri (/oauth2callback), which must be registered for it.
- The callback imports Authlib's Starlette client, which needs httpx (Streamlit's `auth` extra).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from flask import Flask, Response, jsonify, render_template_string, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import BaseWSGIServer, make_server

# The provider's own sign-in cookie. Cookies ignore ports, so on 127.0.0.1 it sits beside Streamlit's
# cookies (`_streamlit_user`, `_streamlit_session`, ...): a distinct name keeps the two apart.
SESSION_COOKIE = "oidc_test_provider_session"
CODE_LIFETIME_SECONDS = 600
SCOPES = ["openid", "email", "profile"]

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider: sign in</title></head>
<body>
<h1>Sign in to {{ client_id }}</h1>
{% if error %}<p role="alert" id="error">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}">
  <label for="email">E-mail</label>
  <input id="email" name="email" type="email" list="known-users" value="{{ email }}" required autofocus>
  <datalist id="known-users">{% for u in users %}<option value="{{ u.email }}">{{ u.name }}</option>{% endfor %}</datalist>
  <button type="submit" name="action" value="sign-in">Sign in</button>
  <button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>
<ul id="users">{% for u in users %}<li>{{ u.name }} &lt;{{ u.email }}&gt;</li>{% endfor %}</ul>
</body></html>"""

MESSAGE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><h1>{{ title }}</h1>{% if form %}<form method="post" action="{{ action }}">
<button type="submit">Sign out</button></form>{% endif %}</body></html>"""


@dataclass(frozen=True)
class User:
    """A person who can sign in at the provider."""

    email: str
    name: str

    @property
    def sub(self) -> str:
        """The stable subject identifier the id_token carries."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{self.email.lower()}"))


@dataclass
class Client(ClientMixin):
    """The one registered relying party: a confidential client using the code flow."""

    client_id: str
    client_secret: str
    redirect_uri: str

    @property
    def client_metadata(self) -> dict[str, Any]:
        """Registration metadata that Authlib's endpoints read (post-logout redirect, signing alg)."""
        return {"post_logout_redirect_uris": [self.redirect_uri], "token_endpoint_auth_method": "client_secret_basic"}

    def get_client_id(self) -> str:
        """The client's identifier."""
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        """The one registered redirect URI."""
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        """The requested scopes this client may have."""
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Only the exact registered redirect URI is accepted."""
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time comparison with the registered secret."""
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Basic or post client authentication at the token endpoint; anything at other endpoints."""
        return method in ("client_secret_basic", "client_secret_post") if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        """The code flow only."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """The authorization code grant only (no refresh tokens)."""
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    """An issued, not yet redeemed authorization code."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    issued_at: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        """The redirect URI the code was issued for."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The granted scope."""
        return self.scope

    def get_nonce(self) -> str | None:
        """The client's nonce, copied into the id_token."""
        return self.nonce

    def get_auth_time(self) -> int:
        """When the user signed in."""
        return self.auth_time

    def is_expired(self) -> bool:
        """Codes live ten minutes."""
        return time.time() > self.issued_at + CODE_LIFETIME_SECONDS


@dataclass
class Token(TokenMixin):
    """An issued bearer access token."""

    access_token: str
    scope: str
    expires_in: int
    user: User
    client: Client
    issued_at: float = field(default_factory=time.time)

    def check_client(self, client: ClientMixin) -> bool:
        """Whether the token was issued to this client."""
        return client.get_client_id() == self.client.client_id

    def get_scope(self) -> str:
        """The token's scope."""
        return self.scope

    def get_expires_in(self) -> int:
        """Lifetime in seconds."""
        return self.expires_in

    def is_expired(self) -> bool:
        """Whether the lifetime has passed."""
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        """Tokens are never revoked here."""
        return False

    def get_user(self) -> User:
        """The user the token speaks for."""
        return self.user

    def get_client(self) -> Client:
        """The client the token was issued to."""
        return self.client


def _user_info(user: User, scope: str) -> UserInfo:
    """The claims about `user` that `scope` allows."""
    return UserInfo(sub=user.sub, name=user.name, email=user.email, email_verified=True).filter(scope)


class OidcProvider:
    """An OpenID Connect provider serving on a free 127.0.0.1 port from construction until `stop()`."""

    def __init__(
        self,
        users: Iterable[User | tuple[str, str] | str],
        redirect_uri: str,
        client_id: str = "vsdash-test",
        client_secret: str | None = None,
    ) -> None:
        """Register one client, know `users` (User, (email, name) or a bare e-mail) and start serving."""
        self.users: list[User] = [_as_user(u) for u in users]
        self.client = Client(client_id, client_secret or secrets.token_urlsafe(32), redirect_uri)
        self.key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, Token] = {}
        self.sessions: dict[str, User] = {}
        self.used_nonces: set[str] = set()
        self.sign_ins: list[str] = []  # e-mail of each successful sign-in, in order
        self.sign_outs: list[str] = []  # e-mail (or "") of each end_session call, in order
        self._lock = threading.Lock()
        self.app = self._build_app()
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port: int = self._server.server_port
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()

    @property
    def metadata_url(self) -> str:
        """The discovery document's address (Streamlit's `server_metadata_url`)."""
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def client_id(self) -> str:
        """The registered client's identifier."""
        return self.client.client_id

    @property
    def client_secret(self) -> str:
        """The registered client's secret."""
        return self.client.client_secret

    @property
    def redirect_uri(self) -> str:
        """The registered redirect URI."""
        return self.client.redirect_uri

    def public_jwks(self) -> dict[str, Any]:
        """The public half of the signing key, as served at /jwks."""
        return KeySet([self.key]).as_dict(private=False)

    def user(self, email: str) -> User | None:
        """The known user with this e-mail address (case-insensitive), if any."""
        return next((u for u in self.users if u.email.lower() == email.strip().lower()), None)

    def stop(self) -> None:
        """Stop serving and wait for the server thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> OidcProvider:
        """Use as `with OidcProvider(...) as idp:`; it is already serving."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop on leaving the block."""
        self.stop()

    def metadata(self) -> dict[str, Any]:
        """The OpenID Provider metadata (discovery document)."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": SCOPES,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "name",
                "email",
                "email_verified",
            ],
            "code_challenge_methods_supported": ["S256"],
            "prompt_values_supported": ["none", "login", "select_account"],
        }

    def _build_app(self) -> Flask:
        """The Flask app with Authlib's authorization server, grants and endpoints wired to this object."""
        provider = self
        app = Flask(f"oidc_provider_{id(self)}")

        def query_client(client_id: str) -> Client | None:
            return provider.client if client_id == provider.client.client_id else None

        def save_token(token: dict[str, Any], req: Any) -> None:
            with provider._lock:
                provider.tokens[token["access_token"]] = Token(
                    token["access_token"], token.get("scope", ""), int(token["expires_in"]), req.user, req.client
                )

        class CodeGrant(AuthorizationCodeGrant):
            """Codes kept in memory on the provider; the client authenticates with Basic or post (Authlib's default)."""

            def save_authorization_code(self, code: str, req: Any) -> None:
                data = req.payload.data
                with provider._lock:
                    provider.codes[code] = AuthorizationCode(
                        code=code,
                        client_id=req.client.client_id,
                        redirect_uri=req.payload.redirect_uri or "",
                        scope=req.scope,
                        user=req.user,
                        nonce=data.get("nonce"),
                        code_challenge=data.get("code_challenge"),
                        code_challenge_method=data.get("code_challenge_method"),
                        auth_time=int(time.time()),
                    )
                    if data.get("nonce"):
                        provider.used_nonces.add(data["nonce"])

            def query_authorization_code(self, code: str, client: ClientMixin) -> AuthorizationCode | None:
                item = provider.codes.get(code)
                if item and item.client_id == client.get_client_id() and not item.is_expired():
                    return item
                return None

            def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
                with provider._lock:
                    provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
                return authorization_code.user

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return nonce in provider.used_nonces

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.key

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": provider.key.kid or "", "typ": "JWT"}

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": client.client_id}

            def generate_user_info(self, user: User, scope: str) -> UserInfo:
                return _user_info(user, scope)

        class TokenValidator(BearerTokenValidator):
            def authenticate_token(self, token_string: str) -> Token | None:
                return provider.tokens.get(token_string)

        protector = ResourceProtector()
        protector.register_token_validator(TokenValidator())

        class UserInfoView(UserInfoEndpoint):
            def get_issuer(self) -> str:
                return provider.issuer

            def generate_user_info(self, user: User, scope: str) -> UserInfo:
                return _user_info(user, scope)

            def resolve_private_key(self) -> RSAKey:
                return provider.key

        class EndSession(EndSessionEndpoint):
            def get_server_jwks(self) -> KeySet:
                return KeySet([provider.key])

            def end_session(self, end_session_request: EndSessionRequest) -> None:
                claims = end_session_request.id_token_claims or {}
                with provider._lock:
                    provider.sign_outs.append(str(claims.get("email", "")))
                    provider.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)

        server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
        server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])
        server.register_endpoint(UserInfoView(resource_protector=protector))
        server.register_endpoint(EndSession)

        def login_page(error: str = "", email: str = "", status: int = 200) -> Response:
            html = render_template_string(
                LOGIN_PAGE,
                client_id=provider.client_id,
                users=provider.users,
                action=request.full_path,
                error=error,
                email=email,
            )
            return Response(html, status=status, mimetype="text/html")

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(provider.metadata())

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(provider.public_jwks())

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize() -> Response:
            signed_in = provider.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
            try:
                grant = server.get_consent_grant(end_user=signed_in)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            if request.method == "GET":
                if signed_in is not None and grant.prompt is None:  # already signed in, no prompt asked for
                    return server.create_authorization_response(grant=grant, grant_user=signed_in)
                return login_page()
            if request.form.get("action") == "cancel":
                return server.create_authorization_response(grant=grant, grant_user=None)
            email = request.form.get("email", "")
            user = provider.user(email)
            if user is None:
                return login_page(error=f"No account for {email!r} at this provider.", email=email, status=401)
            session_id = secrets.token_urlsafe(24)
            with provider._lock:
                provider.sessions[session_id] = user
                provider.sign_ins.append(user.email)
            response = server.create_authorization_response(grant=grant, grant_user=user)
            response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="Lax")
            return response

        @app.post("/token")
        def token() -> Response:
            return server.create_token_response()

        @app.route("/userinfo", methods=["GET", "POST"])
        def userinfo() -> Response:
            return server.create_endpoint_response("userinfo")

        @app.route("/logout", methods=["GET", "POST"])
        def logout() -> Response:
            try:
                end_session = server.validate_endpoint_request("end_session")
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            if end_session.needs_confirmation and request.method == "GET":
                html = render_template_string(
                    MESSAGE_PAGE, title="Sign out of the test provider?", form=True, action=request.full_path
                )
                return Response(html, mimetype="text/html")
            response = server.create_endpoint_response("end_session", end_session)
            if response is None:
                response = Response(
                    render_template_string(MESSAGE_PAGE, title="Signed out", form=False), mimetype="text/html"
                )
            response.delete_cookie(SESSION_COOKIE)
            return response

        return app


def _as_user(user: User | tuple[str, str] | str) -> User:
    """A User from a User, an (email, name) pair or a bare e-mail address."""
    if isinstance(user, User):
        return user
    if isinstance(user, str):
        return User(user, user.split("@")[0])
    return User(*user)


def redirect_uri_for(app_port: int) -> str:
    """Streamlit's OAuth callback address for an app on this 127.0.0.1 port."""
    return f"http://127.0.0.1:{app_port}/oauth2callback"


def _toml_string(value: str) -> str:
    """A TOML basic string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def secrets_toml(provider: OidcProvider, app_port: int, cookie_secret: str) -> str:
    """The `[auth]` section of a Streamlit secrets.toml for signing in at `provider` from an app on `app_port`."""
    redirect_uri = redirect_uri_for(app_port)
    if redirect_uri != provider.redirect_uri:
        raise ValueError(f"the provider's client is registered for {provider.redirect_uri}, not {redirect_uri}")
    lines = {
        "redirect_uri": redirect_uri,
        "cookie_secret": cookie_secret,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "server_metadata_url": provider.metadata_url,
    }
    return "[auth]\n" + "".join(f"{k} = {_toml_string(v)}\n" for k, v in lines.items())


def write_secrets(folder: Path, provider: OidcProvider, app_port: int, cookie_secret: str) -> Path:
    """Write `secrets_toml(...)` to `folder/secrets.toml` (outside the project) and return the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secrets.toml"
    path.write_text(secrets_toml(provider, app_port, cookie_secret), encoding="utf-8")
    return path


def streamlit_secrets_args(secrets_file: Path) -> Sequence[str]:
    """The `streamlit run` arguments that make it read only `secrets_file` (see the module docstring)."""
    return [f"--secrets.files={secrets_file}"]
