"""A browser's WebRTC as a student would notice it, for the talk browser test and benchmark:
Chromium with a fake microphone and camera it grants without asking, and page scripts that
read the room call's peer connections (state, inbound audio bytes from ``getStats()``)."""

from __future__ import annotations

from .chromium import CHROMIUM_ARGS

# Chromium flags: fake devices (a beeping microphone, a test-pattern camera), granted without
# a prompt, and audio that may play without a click.
MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]

# An init script (added to a browser context, it runs before the page's own scripts and
# outside the page's CSP): keep every peer connection the page creates.
TRACK_PEER_CONNECTIONS = """
(() => {
  const Original = window.RTCPeerConnection;
  if (!Original) return;
  window.__peerprepPCs = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__peerprepPCs.push(this); }
  };
})();
"""

# Page function: inbound audio bytes of the newest open peer connection (-1: none yet).
INBOUND_AUDIO_BYTES = """async () => {
  const pc = (window.__peerprepPCs || []).filter(p => p.signalingState !== 'closed').pop();
  if (!pc) return -1;
  let bytes = 0;
  (await pc.getStats()).forEach(r => {
    if (r.type === 'inbound-rtp' && r.kind === 'audio') bytes += r.bytesReceived;
  });
  return bytes;
}"""

# Page function: every peer connection the page made is closed (and it made one).
ALL_CLOSED = (
    "() => (window.__peerprepPCs || []).length > 0 && "
    "window.__peerprepPCs.every(p => p.signalingState === 'closed')"
)


def media_chromium_args() -> list[str]:
    return [*CHROMIUM_ARGS, *MEDIA_ARGS]
