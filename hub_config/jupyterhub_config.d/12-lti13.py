# Log-in through the university's LMS with LTI 1.3 (Canvas, Moodle, Blackboard, ...).
#
# Active only when PEERPREP_AUTH=lti13; otherwise this file changes nothing. Registration of
# PeerPrep as a tool in Canvas or Moodle: docs/how-to/lms-login.md. What a launch gives:
#   - the user name from the claim PEERPREP_LTI_USERNAME_KEY (default "email");
#   - the course's Instructor, Teaching Assistant and Content Developer roles -> the
#     "instructors" group; the course (context id) -> group "course-<id>" (the class view);
#   - the display name and email -> auth_state["peerprep"] -> the PeerPrep profile.
#
# Environment variables (the first four come from the LMS's registration page):
#   PEERPREP_LTI_ISSUER         the platform's issuer, e.g. https://canvas.instructure.com
#   PEERPREP_LTI_CLIENT_ID      the client id(s) of the tool's registration, comma-separated
#   PEERPREP_LTI_AUTHORIZE_URL  the platform's OIDC authorization endpoint
#   PEERPREP_LTI_JWKS_URL       the platform's public keyset (JWKS) URL
#   PEERPREP_LTI_USERNAME_KEY   id_token claim used as the hub user name (default email)
#   PEERPREP_LTI_ADMINS         hub admins by user name, comma-separated (optional)
#   JUPYTERHUB_CRYPT_KEY        key encrypting auth_state (default: generated once into the
#                               state directory, file jupyterhub_crypt_key)
import os

c = get_config()


if os.environ.get("PEERPREP_AUTH") == "lti13":
    _missing = [
        name
        for name in (
            "PEERPREP_LTI_ISSUER",
            "PEERPREP_LTI_CLIENT_ID",
            "PEERPREP_LTI_AUTHORIZE_URL",
            "PEERPREP_LTI_JWKS_URL",
        )
        if not os.environ.get(name)
    ]
    if _missing:
        raise ValueError(
            f"PEERPREP_AUTH=lti13 needs {', '.join(_missing)}: copy them from the tool's "
            "registration in your LMS (docs/how-to/lms-login.md)."
        )
    c.JupyterHub.authenticator_class = "jupyter_peerprep.lms.PeerPrepLTI13Authenticator"
    c.LTI13Authenticator.issuer = os.environ["PEERPREP_LTI_ISSUER"]
    c.LTI13Authenticator.client_id = {
        cid.strip() for cid in os.environ["PEERPREP_LTI_CLIENT_ID"].split(",") if cid.strip()
    }
    c.LTI13Authenticator.authorize_url = os.environ["PEERPREP_LTI_AUTHORIZE_URL"]
    c.LTI13Authenticator.jwks_endpoint = os.environ["PEERPREP_LTI_JWKS_URL"]
    c.LTI13Authenticator.username_key = os.environ.get("PEERPREP_LTI_USERNAME_KEY", "email")
    c.LTI13Authenticator.tool_name = "PeerPrep"
    c.LTI13Authenticator.tool_description = "Practise technical interviews in pairs"
    # Whoever the LMS launches may log in; the LMS decides who is in the course.
    c.Authenticator.allow_all = True
    c.Authenticator.admin_users = {
        u for u in os.environ.get("PEERPREP_LTI_ADMINS", "").split(",") if u
    }
    # Each launch sets the user's groups (instructors, course-<id>) from the LMS's roles.
    c.Authenticator.manage_groups = True
    # Display name and email reach the PeerPrep service through auth_state.
    c.Authenticator.enable_auth_state = True
    from jupyter_peerprep.lms import ensure_crypt_key

    ensure_crypt_key(os.environ["PEERPREP_STATE_DIR"])
    c.JupyterHub.load_roles.append(
        {"name": "peerprep-profiles", "services": ["peerprep"], "scopes": ["admin:auth_state"]}
    )
