import {
  CallEvent,
  ICallState,
  NO_ROUTE_MESSAGE,
  callReducer,
  callStatus,
  inCall,
  initialCallState,
  mediaErrorMessage
} from '../callState';

function run(events: CallEvent[], from: ICallState = initialCallState) {
  return events.reduce(callReducer, from);
}

describe('the room call state', () => {
  it('goes from Call to connected when the partner is already in the call', () => {
    const s = run([
      { type: 'partner-joined' },
      { type: 'start' },
      { type: 'media-ok' },
      { type: 'connection', state: 'connecting' },
      { type: 'connection', state: 'connected' }
    ]);
    expect(s.phase).toBe('connected');
    expect(callStatus(s, 'Ben')).toBe('In a call with Ben.');
  });

  it('waits for a partner who has not joined, then connects', () => {
    let s = run([{ type: 'start' }, { type: 'media-ok' }]);
    expect(s.phase).toBe('waiting');
    expect(callStatus(s, 'Ben')).toMatch(/Waiting for Ben/);
    s = run(
      [{ type: 'partner-joined' }, { type: 'connection', state: 'connected' }],
      s
    );
    expect(s.phase).toBe('connected');
  });

  it('offers to join when the partner calls first', () => {
    const s = run([{ type: 'partner-joined' }]);
    expect(s.phase).toBe('idle');
    expect(callStatus(s, 'Ben')).toBe(
      'Ben is in the call. Press Call to join.'
    );
  });

  it('says how to unblock a blocked microphone', () => {
    const s = run([
      { type: 'start' },
      { type: 'media-error', name: 'NotAllowedError' }
    ]);
    expect(s.phase).toBe('failed');
    expect(s.error).toMatch(/blocked the microphone/);
    expect(s.error).toMatch(/press Call again/);
    // Pressing Call again is allowed and clears the message.
    expect(callReducer(s, { type: 'start' })).toMatchObject({
      phase: 'starting',
      error: null
    });
  });

  it('names a missing microphone and one in use', () => {
    expect(mediaErrorMessage('NotFoundError')).toMatch(
      /No microphone was found/
    );
    expect(mediaErrorMessage('NotReadableError')).toMatch(
      /in use by another program/
    );
  });

  it('explains when no route is found, and recovers from a dropped route', () => {
    const connected = run([
      { type: 'partner-joined' },
      { type: 'start' },
      { type: 'media-ok' },
      { type: 'connection', state: 'connected' }
    ]);
    const dropped = callReducer(connected, {
      type: 'connection',
      state: 'disconnected'
    });
    expect(dropped.phase).toBe('reconnecting');
    expect(
      callReducer(dropped, { type: 'connection', state: 'connected' }).phase
    ).toBe('connected');
    const failed = callReducer(connected, {
      type: 'connection',
      state: 'failed'
    });
    expect(failed.phase).toBe('failed');
    expect(failed.error).toBe(NO_ROUTE_MESSAGE);
    expect(failed.error).toMatch(/TURN/);
  });

  it('ignores connection events when not in a call', () => {
    expect(
      callReducer(initialCallState, { type: 'connection', state: 'connected' })
    ).toBe(initialCallState);
  });

  it('mutes, and a muted student is never shown speaking', () => {
    let s = run([
      { type: 'start' },
      { type: 'media-ok' },
      { type: 'speaking', who: 'me', on: true }
    ]);
    expect(s.meSpeaking).toBe(true);
    s = callReducer(s, { type: 'mute', muted: true });
    expect(s).toMatchObject({ muted: true, meSpeaking: false });
    expect(
      callReducer(s, { type: 'speaking', who: 'me', on: true }).meSpeaking
    ).toBe(false);
  });

  it('shows the partner muted (never speaking), then speaking once unmuted', () => {
    const s = run([
      { type: 'partner-joined' },
      { type: 'start' },
      { type: 'media-ok' },
      { type: 'connection', state: 'connected' },
      { type: 'speaking', who: 'partner', on: true },
      { type: 'partner-media', muted: true }
    ]);
    expect(s).toMatchObject({ partnerMuted: true, partnerSpeaking: false });
    expect(callStatus(s, 'Ben')).toBe('In a call with Ben (Ben is muted).');
    expect(
      callReducer(s, { type: 'speaking', who: 'partner', on: true })
        .partnerSpeaking
    ).toBe(false);
    const unmuted = run(
      [
        { type: 'partner-media', muted: false },
        { type: 'speaking', who: 'partner', on: true }
      ],
      s
    );
    expect(unmuted).toMatchObject({
      partnerMuted: false,
      partnerSpeaking: true
    });
    expect(callStatus(unmuted, 'Ben')).toBe('In a call with Ben.');
  });

  it('goes back to waiting when the partner hangs up', () => {
    const s = run([
      { type: 'partner-joined' },
      { type: 'start' },
      { type: 'media-ok' },
      { type: 'connection', state: 'connected' },
      { type: 'partner-left' }
    ]);
    expect(s).toMatchObject({ phase: 'waiting', partnerInCall: false });
    expect(s.notice).toMatch(/left the call/);
  });

  it('hangs up but remembers the partner is still in the call', () => {
    const s = run([
      { type: 'partner-joined' },
      { type: 'start' },
      { type: 'media-ok' },
      { type: 'hangup' }
    ]);
    expect(s).toMatchObject({ phase: 'idle', partnerInCall: true });
    expect(inCall(s)).toBe(false);
  });

  it('a camera that cannot open leaves the call as it was', () => {
    const s = run([
      { type: 'start' },
      { type: 'media-ok' },
      { type: 'camera-error', name: 'NotAllowedError' }
    ]);
    expect(s).toMatchObject({ phase: 'waiting', camera: false });
    expect(s.notice).toMatch(/blocked the camera/);
  });

  it('ends for good when the session ends', () => {
    const s = run([
      { type: 'start' },
      { type: 'media-ok' },
      { type: 'room-ended' },
      { type: 'start' },
      { type: 'partner-joined' }
    ]);
    expect(s.phase).toBe('ended');
    expect(callStatus(s, 'Ben')).toMatch(/session has ended/);
  });
});
