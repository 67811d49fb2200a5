"""What PeerPrep's LMS and single sign-on authenticators keep of a log-in."""

from __future__ import annotations

from jupyter_peerprep.lms import NonceRegistry, PeerPrepOIDCAuthenticator, course_group


async def test_oidc_keeps_name_and_email_not_the_tokens():
    auth = PeerPrepOIDCAuthenticator()
    model = await auth.update_auth_model(
        {
            "name": "lin",
            "auth_state": {
                "access_token": "ACCESS-1",
                "refresh_token": "REFRESH-1",
                "id_token": "ID-1",
                "token_response": {"access_token": "ACCESS-1"},
                "oauth_user": {"name": "Lin  Example", "email": "lin@uni.example"},
            },
        }
    )
    state = model["auth_state"]
    assert state["peerprep"] == {"display_name": "Lin Example", "email": "lin@uni.example"}
    for token in ("ACCESS-1", "REFRESH-1", "ID-1"):
        assert token not in repr(state)


async def test_oidc_keeps_tokens_when_asked():
    auth = PeerPrepOIDCAuthenticator(keep_tokens=True)
    model = await auth.update_auth_model(
        {"name": "lin", "auth_state": {"access_token": "at", "oauth_user": {}}}
    )
    assert model["auth_state"]["access_token"] == "at"


def test_course_group_names_are_safe():
    assert course_group("cs101 / 2026") == "course-cs101-2026"
    assert course_group("") == ""


def test_a_nonce_is_accepted_once_within_its_lifetime():
    nonces = NonceRegistry()
    assert nonces.first_use("n1", 60, now=0.0)
    assert not nonces.first_use("n1", 60, now=30.0)
    # Forgotten after the lifetime (the token is too old to be accepted by then anyway).
    assert nonces.first_use("n1", 60, now=100.0)
