"""The test identity provider speaks real OpenID Connect, and Streamlit's st.login signs in against it."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from oidc_provider import OidcProvider, User, redirect_uri_for, streamlit_secrets_args, write_secrets
from test_browser import browser, free_port, need_chromium, running_app  # noqa: F401  (browser: the fixture)

PROBE_APP = Path(__file__).parent / "apps" / "sso_probe.py"
USERS = [User("ada@example.org", "Ada Lovelace"), User("grace@example.org", "Grace Hopper")]
SCRIPT_DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand 3xx responses back to the caller instead of following them."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        """Never follow."""
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Reply:
    """An HTTP response, read whole."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def http(url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Reply:
    """GET (or POST a form when `data` is given) without following redirects; errors are replies too."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=10) as resp:
            return Reply(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def basic_auth(provider: OidcProvider, secret: str | None = None) -> dict[str, str]:
    """An Authorization header with the client's credentials (or a wrong secret)."""
    raw = f"{provider.client_id}:{secret or provider.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    """A provider for a client whose callback is on a port nothing serves (the HTTP tests read redirects)."""
    with OidcProvider(users=USERS, redirect_uri=redirect_uri_for(free_port())) as idp:
        yield idp


@dataclass
class Authorization:
    """One authorization request's parameters, as a relying party makes them."""

    url: str
    state: str
    nonce: str
    verifier: str


def authorization_request(provider: OidcProvider, metadata: dict[str, Any]) -> Authorization:
    """An authorization request with state, nonce and a PKCE S256 challenge."""
    state, nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": provider.redirect_uri,
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
            "prompt": "select_account",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return Authorization(f"{metadata['authorization_endpoint']}?{query}", state, nonce, verifier)


def sign_in(auth: Authorization, email: str) -> Reply:
    """Submit the provider's login form for `email`."""
    return http(auth.url, {"email": email, "action": "sign-in"})


def code_from(reply: Reply, provider: OidcProvider, state: str) -> str:
    """The authorization code in a redirect back to the client, after checking where it goes and its state."""
    assert reply.status == 302, reply.body[:500]
    location = urllib.parse.urlsplit(reply.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == provider.redirect_uri
    query = dict(urllib.parse.parse_qsl(location.query))
    assert query["state"] == state
    return query["code"]


def redeem(
    provider: OidcProvider, metadata: dict[str, Any], code: str, verifier: str, secret: str | None = None
) -> Reply:
    """Exchange a code at the token endpoint, authenticating with HTTP Basic."""
    return http(
        metadata["token_endpoint"],
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": provider.redirect_uri,
            "code_verifier": verifier,
        },
        basic_auth(provider, secret),
    )


def test_code_flow_over_plain_http(provider: OidcProvider) -> None:
    """Discovery, the login page, the code, the token exchange, an id_token that verifies, and userinfo."""
    metadata = http(provider.metadata_url).json()
    assert metadata["issuer"] == provider.issuer
    assert provider.metadata_url == f"{metadata['issuer']}/.well-known/openid-configuration"
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint"):
        assert metadata[key].startswith(provider.issuer + "/"), key
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    assert "S256" in metadata["code_challenge_methods_supported"]

    auth = authorization_request(provider, metadata)
    page = http(auth.url)
    assert page.status == 200
    assert b'name="email"' in page.body and b"Sign in" in page.body

    code = code_from(sign_in(auth, "grace@example.org"), provider, auth.state)
    reply = redeem(provider, metadata, code, auth.verifier)
    assert reply.status == 200, reply.body
    token = reply.json()
    assert token["token_type"].lower() == "bearer"
    assert token["access_token"] and token["id_token"]

    jwks = KeySet.import_key_set(http(metadata["jwks_uri"]).json())
    id_token = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256" and id_token.header["kid"] == jwks.keys[0].kid
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        nonce={"essential": True, "value": auth.nonce},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(id_token.claims)
    assert id_token.claims["email"] == "grace@example.org"
    assert id_token.claims["name"] == "Grace Hopper"
    assert id_token.claims["sub"] == USERS[1].sub
    assert "at_hash" in id_token.claims

    info = http(metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info.status == 200, info.body
    assert info.json()["email"] == "grace@example.org" and info.json()["sub"] == id_token.claims["sub"]
    assert provider.sign_ins == ["grace@example.org"]


def test_provider_refuses_what_a_real_one_refuses(provider: OidcProvider) -> None:
    """Unknown e-mail, wrong secret, wrong PKCE verifier, a reused code, a foreign redirect, a bad token."""
    metadata = http(provider.metadata_url).json()

    auth = authorization_request(provider, metadata)
    unknown = sign_in(auth, "mallory@example.org")
    assert unknown.status == 401 and b"No account for" in unknown.body

    code = code_from(sign_in(auth, "ada@example.org"), provider, auth.state)
    assert redeem(provider, metadata, code, auth.verifier, secret="wrong").status == 401
    bad_pkce = redeem(provider, metadata, code, secrets.token_urlsafe(48))
    assert bad_pkce.status == 400 and bad_pkce.json()["error"] == "invalid_grant"
    assert redeem(provider, metadata, code, auth.verifier).status == 200
    reused = redeem(provider, metadata, code, auth.verifier)
    assert reused.status == 400 and reused.json()["error"] == "invalid_grant"

    replay = sign_in(auth, "ada@example.org")  # the same nonce again
    assert replay.status == 302 and "error=invalid_request" in replay.headers["Location"]

    foreign = http(
        authorization_request(provider, metadata).url.replace(
            urllib.parse.quote(provider.redirect_uri, safe=""), urllib.parse.quote("http://evil.example/cb", safe="")
        )
    )
    assert foreign.status == 400 and "Location" not in foreign.headers

    cancelled = authorization_request(provider, metadata)
    denied = http(cancelled.url, {"action": "cancel"})
    assert denied.status == 302 and "error=access_denied" in denied.headers["Location"]

    assert http(metadata["userinfo_endpoint"], headers={"Authorization": "Bearer nope"}).status == 401
    assert provider.sign_ins == ["ada@example.org"]  # the replay was refused before anyone signed in


# --- Streamlit's st.login against the provider, in a real browser -------------------------------------------


@dataclass
class SsoApp:
    """The probe app running under `streamlit run`, signed in through `provider`."""

    url: str
    provider: OidcProvider


@pytest.fixture(scope="module")
def sso_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoApp]:
    """`streamlit run tests/apps/sso_probe.py` with an `[auth]` section pointing at a live provider.

    The secrets reach Streamlit as `--secrets.files=<tmp>/secrets.toml` (see tests/oidc_provider.py): the
    process runs from the project root, so it keeps the project's `.streamlit/config.toml`, but reads no
    secrets.toml from the project or from ~/.streamlit.
    """
    need_chromium()
    port = free_port()
    with OidcProvider(users=USERS, redirect_uri=redirect_uri_for(port)) as idp:
        secrets_file = write_secrets(tmp_path_factory.mktemp("sso"), idp, port, secrets.token_hex(32))
        with running_app(port=port, args=tuple(streamlit_secrets_args(secrets_file)), script=str(PROBE_APP)) as url:
            yield SsoApp(url, idp)


def _open(context: Any, url: str) -> Any:
    """A new tab at `url`, once Streamlit's script has finished."""
    page = context.new_page()
    page.goto(url, timeout=60_000)
    page.wait_for_selector(SCRIPT_DONE, timeout=60_000)
    return page


def _sign_in_through_provider(page: Any, app: SsoApp, email: str) -> None:
    """Click Sign in, land on the provider's page, sign in there as `email`."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app.provider.issuer}/authorize?**", timeout=30_000)
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_st_login_round_trip_and_logout(sso_app: SsoApp, browser: Any) -> None:
    """Sign in at the provider as a chosen user, come back signed in as them, then sign out everywhere."""
    context = browser.new_context()
    page = _open(context, sso_app.url)
    page.get_by_text("Not signed in").wait_for(timeout=30_000)
    before_in, before_out = len(sso_app.provider.sign_ins), len(sso_app.provider.sign_outs)

    _sign_in_through_provider(page, sso_app, "grace@example.org")
    page.get_by_text("Signed in as grace@example.org").wait_for(timeout=60_000)
    assert page.url.rstrip("/") == sso_app.url  # back at the app's home page, not stuck on the callback
    page.get_by_text("Name: Grace Hopper").wait_for(timeout=10_000)
    assert sso_app.provider.sign_ins[before_in:] == ["grace@example.org"]
    assert {c["name"] for c in context.cookies(sso_app.url)} >= {"_streamlit_user", "_streamlit_user_tokens"}

    # A fresh tab in the same browser is still signed in (the identity cookie, not the websocket session).
    other = _open(context, sso_app.url)
    other.get_by_text("Signed in as grace@example.org").wait_for(timeout=30_000)
    other.close()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("Not signed in").wait_for(timeout=60_000)
    assert sso_app.provider.sign_outs[before_out:] == ["grace@example.org"]  # RP-initiated logout reached it
    assert "_streamlit_user" not in {c["name"] for c in context.cookies(sso_app.url)}
    assert page.locator("[data-testid='stException']").count() == 0

    again = _open(context, sso_app.url)
    again.get_by_text("Not signed in").wait_for(timeout=30_000)
    assert again.get_by_text("Signed in as").count() == 0
    context.close()


@pytest.mark.browser
def test_choosing_another_user_and_cancelling(sso_app: SsoApp, browser: Any) -> None:
    """The e-mail chosen at the provider is the one the app sees; cancelling there leaves the app signed out."""
    context = browser.new_context()
    page = _open(context, sso_app.url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{sso_app.provider.issuer}/authorize?**", timeout=30_000)
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"{sso_app.url}/", timeout=30_000)
    page.wait_for_selector(SCRIPT_DONE, timeout=60_000)
    page.get_by_text("Not signed in").wait_for(timeout=30_000)

    _sign_in_through_provider(page, sso_app, "ada@example.org")
    page.get_by_text("Signed in as ada@example.org").wait_for(timeout=60_000)
    assert page.get_by_text("grace@example.org").count() == 0
    context.close()
