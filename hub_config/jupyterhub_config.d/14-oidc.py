# Log-in through the university's single sign-on with OpenID Connect / OAuth 2 (Keycloak,
# Azure AD / Entra ID, Google Workspace, Shibboleth's OIDC provider, ...).
#
# Active only when PEERPREP_AUTH=oidc; otherwise this file changes nothing. Registration of
# PeerPrep as a client at the identity provider: docs/how-to/lms-login.md. What a log-in gives:
#   - the user name from the claim PEERPREP_OIDC_USERNAME_CLAIM (default preferred_username);
#   - a value of PEERPREP_OIDC_INSTRUCTOR_VALUES in the groups claim -> the "instructors" group;
#   - the display name ("name") and "email" claims -> auth_state["peerprep"] -> the profile.
#
# Environment variables:
#   PEERPREP_OIDC_ISSUER_URL    the provider's base URL: endpoints are read from
#                               <issuer>/.well-known/openid-configuration when the three
#                               URLs below are not given
#   PEERPREP_OIDC_AUTHORIZE_URL, PEERPREP_OIDC_TOKEN_URL, PEERPREP_OIDC_USERDATA_URL
#   PEERPREP_OIDC_CLIENT_ID, PEERPREP_OIDC_CLIENT_SECRET   the client registered for PeerPrep
#   PEERPREP_OIDC_CALLBACK_URL  https://<your hub>/hub/oauth_callback (registered as redirect)
#   PEERPREP_OIDC_USERNAME_CLAIM   (default preferred_username)
#   PEERPREP_OIDC_GROUPS_CLAIM     claim of the user info holding groups (default groups)
#   PEERPREP_OIDC_INSTRUCTOR_VALUES  groups that mean instructor (default
#                               instructors,teaching-assistants)
#   PEERPREP_OIDC_SCOPES        (default "openid profile email")
#   JUPYTERHUB_CRYPT_KEY        as in 12-lti13.py (generated into the state directory if unset)
import json
import os
import urllib.request

c = get_config()


if os.environ.get("PEERPREP_AUTH") == "oidc":
    _env = os.environ.get
    _urls = {
        "authorize_endpoint": _env("PEERPREP_OIDC_AUTHORIZE_URL", ""),
        "token_endpoint": _env("PEERPREP_OIDC_TOKEN_URL", ""),
        "userinfo_endpoint": _env("PEERPREP_OIDC_USERDATA_URL", ""),
    }
    if not all(_urls.values()):
        if not _env("PEERPREP_OIDC_ISSUER_URL"):
            raise ValueError(
                "PEERPREP_AUTH=oidc needs PEERPREP_OIDC_ISSUER_URL (or the authorize, token and "
                "userdata URLs): see docs/how-to/lms-login.md."
            )
        # Read once at start-up, before the hub serves anyone (blocking is fine here).
        _well_known = _env("PEERPREP_OIDC_ISSUER_URL", "").rstrip("/")
        with urllib.request.urlopen(  # noqa: S310 (an operator-given https URL)
            f"{_well_known}/.well-known/openid-configuration", timeout=30
        ) as _response:
            _discovered = json.load(_response)
        _urls = {
            key: value
            or _discovered.get("authorization_endpoint" if key == "authorize_endpoint" else key, "")
            for key, value in _urls.items()
        }
    for name in ("PEERPREP_OIDC_CLIENT_ID", "PEERPREP_OIDC_CLIENT_SECRET"):
        if not _env(name):
            raise ValueError(f"PEERPREP_AUTH=oidc needs {name}: see docs/how-to/lms-login.md.")
    c.JupyterHub.authenticator_class = "jupyter_peerprep.lms.PeerPrepOIDCAuthenticator"
    c.GenericOAuthenticator.authorize_url = _urls["authorize_endpoint"]
    c.GenericOAuthenticator.token_url = _urls["token_endpoint"]
    c.GenericOAuthenticator.userdata_url = _urls["userinfo_endpoint"]
    c.GenericOAuthenticator.client_id = _env("PEERPREP_OIDC_CLIENT_ID")
    c.GenericOAuthenticator.client_secret = _env("PEERPREP_OIDC_CLIENT_SECRET")
    if _env("PEERPREP_OIDC_CALLBACK_URL"):
        c.GenericOAuthenticator.oauth_callback_url = _env("PEERPREP_OIDC_CALLBACK_URL")
    c.GenericOAuthenticator.scope = _env("PEERPREP_OIDC_SCOPES", "openid profile email").split()
    c.GenericOAuthenticator.username_claim = _env(
        "PEERPREP_OIDC_USERNAME_CLAIM", "preferred_username"
    )
    c.GenericOAuthenticator.auth_state_groups_key = (
        f"oauth_user.{_env('PEERPREP_OIDC_GROUPS_CLAIM', 'groups')}"
    )
    c.PeerPrepOIDCAuthenticator.instructor_claim_values = [
        v
        for v in _env("PEERPREP_OIDC_INSTRUCTOR_VALUES", "instructors,teaching-assistants").split(
            ","
        )
        if v
    ]
    c.GenericOAuthenticator.login_service = _env("PEERPREP_OIDC_LOGIN_SERVICE", "your university")
    c.Authenticator.allow_all = True
    c.Authenticator.manage_groups = True
    c.Authenticator.enable_auth_state = True
    from jupyter_peerprep.lms import ensure_crypt_key

    ensure_crypt_key(os.environ["PEERPREP_STATE_DIR"])
    c.JupyterHub.load_roles.append(
        {"name": "peerprep-profiles", "services": ["peerprep"], "scopes": ["admin:auth_state"]}
    )
