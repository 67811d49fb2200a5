# Who can log in: NativeAuthenticator, with open sign-up (a newcomer creates an account in the
# browser and logs in at once). Active when PEERPREP_AUTH is unset or "native" (the default of
# `make run`); universities log in through their LMS (PEERPREP_AUTH=lti13, 12-lti13.py) or
# single sign-on (PEERPREP_AUTH=oidc, 14-oidc.py) instead: docs/how-to/lms-login.md.
import os

c = get_config()

PEERPREP_AUTH = os.environ.get("PEERPREP_AUTH", "native")
if PEERPREP_AUTH not in ("native", "lti13", "oidc"):
    raise ValueError(
        f"PEERPREP_AUTH={PEERPREP_AUTH!r} is not a log-in PeerPrep knows; "
        "use native (sign-up with a password), lti13 (an LMS) or oidc (single sign-on)."
    )

if PEERPREP_AUTH == "native":
    # NativeAuthenticator with a fix for JupyterHub 6 (see jupyter_peerprep/authenticator.py).
    c.JupyterHub.authenticator_class = "jupyter_peerprep.authenticator.PeerPrepAuthenticator"
    c.NativeAuthenticator.open_signup = True
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True
    # Lock an account for a while after repeated failed logins.
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 60
    c.Authenticator.allow_all = True

    # The first admin: whoever signs up as this name (default "admin") is a hub admin and an
    # instructor. Set PEERPREP_ADMIN to choose another name; sign up under it before anyone else.
    PEERPREP_ADMIN = os.environ.get("PEERPREP_ADMIN", "admin")
    c.Authenticator.admin_users = {PEERPREP_ADMIN}

    # Instructors publish questions. Add members in the hub's admin page (Groups) or here.
    c.JupyterHub.load_groups = {
        "instructors": {
            "users": [PEERPREP_ADMIN]
            + [u for u in os.environ.get("PEERPREP_INSTRUCTORS", "").split(",") if u],
        },
    }
