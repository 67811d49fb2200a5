"""Talk in a room: the chat document beside the notebook and the WebRTC call between the two
students (docs/explanation/talk.md).

- ``settings``: the ``TalkSettings`` traits (STUN/TURN servers, signalling limits, the chat
  file's name) and the ICE configuration a member is handed, with short-lived TURN
  credentials;
- ``signals``: the signalling mailbox between the two members of a room (database rows);
- ``transcript``: the chat file a room starts with, and the transcript copied from the room
  while it runs and when it ends (the attempt's chat in history);
- ``handlers``: ``/api/rooms/{id}/talk`` and ``/api/rooms/{id}/signal``.
"""
