"""Nobody signs up as a room: ``pair-`` user names belong to PeerPrep's pair servers.

A room's server is the server of hub user ``pair-<hex>``. A student who could register that
name (for instance a cold room's, before its spawn) would own the room and everything the two
students do in it.
"""

from __future__ import annotations

import pytest

from jupyter_peerprep.testing.hubclient import HubClientError, HubUser

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["pair-0123456789ab", "PAIR-cafe", "pair-"])
def test_signup_refuses_pair_names_with_a_clear_message(security_hub, name):
    user = HubUser(security_hub.url, name)
    with pytest.raises(HubClientError):
        user.signup()
    page = user.session.post(
        f"{security_hub.url}/hub/signup",
        data={
            "username": name,
            "signup_password": user.password,
            "signup_password_confirmation": user.password,
            "_xsrf": user._xsrf(),
        },
    )
    assert "reserved" in page.text and "pair-" in page.text, page.text[-3000:]
    with pytest.raises(HubClientError):
        user.login()


def test_other_names_still_sign_up(security_hub):
    user = HubUser(security_hub.url, "pairing-fan")
    user.signup()
    user.login()
