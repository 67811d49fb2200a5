/**
 * The room call as a pure state machine: events in (the student's buttons, the browser's
 * media and connection events, the partner's signalling messages, the room's end), UI state
 * out. `call.ts` feeds it; `CallBar.tsx` shows it. No I/O here, so jest tests it whole.
 */

export type CallPhase =
  /** Not in a call (the partner may be: `partnerInCall`). */
  | 'idle'
  /** Asking the browser for the microphone. */
  | 'starting'
  /** In the call, waiting for the partner to join. */
  | 'waiting'
  /** Both in, WebRTC finding a route. */
  | 'connecting'
  | 'connected'
  /** The route dropped; the browser is trying again. */
  | 'reconnecting'
  /** No route found, or the microphone refused: `error` says what to do. */
  | 'failed'
  /** The session ended: the call is over for good. */
  | 'ended';

export interface ICallState {
  phase: CallPhase;
  muted: boolean;
  camera: boolean;
  partnerInCall: boolean;
  partnerMuted: boolean;
  partnerCamera: boolean;
  meSpeaking: boolean;
  partnerSpeaking: boolean;
  /** What went wrong and what to do, for the student (null: nothing). */
  error: string | null;
  /** A passing note (the partner left the call). */
  notice: string | null;
}

export type CallEvent =
  | { type: 'start' }
  | { type: 'media-ok' }
  | { type: 'media-error'; name: string }
  | { type: 'partner-joined' }
  | { type: 'partner-left' }
  | { type: 'partner-media'; muted?: boolean; camera?: boolean }
  | { type: 'connection'; state: string }
  | { type: 'mute'; muted: boolean }
  | { type: 'camera'; on: boolean }
  | { type: 'camera-error'; name: string }
  | { type: 'speaking'; who: 'me' | 'partner'; on: boolean }
  | { type: 'hangup' }
  | { type: 'room-ended' };

export const initialCallState: ICallState = {
  phase: 'idle',
  muted: false,
  camera: false,
  partnerInCall: false,
  partnerMuted: false,
  partnerCamera: false,
  meSpeaking: false,
  partnerSpeaking: false,
  error: null,
  notice: null
};

/** Is the student in the call (their microphone is on offer)? */
export function inCall(state: ICallState): boolean {
  return ['waiting', 'connecting', 'connected', 'reconnecting'].includes(
    state.phase
  );
}

/** A clear message for a `getUserMedia` failure (the DOMException's name). */
export function mediaErrorMessage(name: string, device = 'microphone'): string {
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return (
        `Your browser blocked the ${device}. Allow it for this page (the icon at the ` +
        'left of the address bar), then press Call again.'
      );
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${device} was found. Plug one in (or choose it in your system settings), then press Call again.`;
    case 'NotReadableError':
    case 'AbortError':
      return `Your ${device} is in use by another program or could not be started. Close that program, then press Call again.`;
    default:
      return `The ${device} could not be opened (${name}). Press Call to try again.`;
  }
}

/** What a student is told when no route to the partner exists. */
export const NO_ROUTE_MESSAGE =
  'No route to your partner was found: a firewall or NAT blocks a direct connection and ' +
  'no TURN relay is configured or reachable. Chat still works. Ask your administrator to set ' +
  'up a TURN server (docs/how-to/turn-server.md), or try again from another network.';

function afterConnection(state: ICallState, connection: string): ICallState {
  if (!inCall(state)) {
    return state;
  }
  switch (connection) {
    case 'connected':
      return { ...state, phase: 'connected', error: null, notice: null };
    case 'connecting':
    case 'new':
      return state.phase === 'connected'
        ? state
        : { ...state, phase: 'connecting' };
    case 'disconnected':
      return { ...state, phase: 'reconnecting' };
    case 'failed':
      return {
        ...state,
        phase: 'failed',
        partnerSpeaking: false,
        error: NO_ROUTE_MESSAGE
      };
    default:
      return state;
  }
}

export function callReducer(state: ICallState, event: CallEvent): ICallState {
  if (state.phase === 'ended') {
    return state; // the session is over: nothing brings the call back
  }
  switch (event.type) {
    case 'start':
      if (inCall(state) || state.phase === 'starting') {
        return state;
      }
      return { ...state, phase: 'starting', error: null, notice: null };
    case 'media-ok':
      if (state.phase !== 'starting') {
        return state;
      }
      return {
        ...state,
        phase: state.partnerInCall ? 'connecting' : 'waiting',
        muted: false
      };
    case 'media-error':
      return {
        ...state,
        phase: 'failed',
        error: mediaErrorMessage(event.name)
      };
    case 'partner-joined':
      return {
        ...state,
        partnerInCall: true,
        notice: null,
        phase: state.phase === 'waiting' ? 'connecting' : state.phase
      };
    case 'partner-left':
      return {
        ...state,
        partnerInCall: false,
        partnerSpeaking: false,
        partnerCamera: false,
        partnerMuted: false,
        phase: inCall(state) ? 'waiting' : state.phase,
        notice: 'Your partner left the call.'
      };
    case 'partner-media':
      return {
        ...state,
        partnerMuted: event.muted ?? state.partnerMuted,
        partnerSpeaking: event.muted ? false : state.partnerSpeaking,
        partnerCamera: event.camera ?? state.partnerCamera
      };
    case 'connection':
      return afterConnection(state, event.state);
    case 'mute':
      return {
        ...state,
        muted: event.muted,
        meSpeaking: event.muted ? false : state.meSpeaking
      };
    case 'camera':
      return { ...state, camera: event.on };
    case 'camera-error':
      return {
        ...state,
        camera: false,
        notice: mediaErrorMessage(event.name, 'camera')
      };
    case 'speaking':
      if (event.who === 'me') {
        return { ...state, meSpeaking: event.on && !state.muted };
      }
      return { ...state, partnerSpeaking: event.on && !state.partnerMuted };
    case 'hangup':
      return {
        ...initialCallState,
        partnerInCall: state.partnerInCall
      };
    case 'room-ended':
      return { ...initialCallState, phase: 'ended' };
  }
  return state;
}

/** The one-line status the call bar announces (role="status"). */
export function callStatus(state: ICallState, partner: string): string {
  switch (state.phase) {
    case 'idle':
      return state.partnerInCall
        ? `${partner} is in the call. Press Call to join.`
        : 'Not in a call.';
    case 'starting':
      return 'Opening your microphone…';
    case 'waiting':
      return `Waiting for ${partner} to join the call…`;
    case 'connecting':
      return `Connecting to ${partner}…`;
    case 'connected':
      return `In a call with ${partner}${state.partnerMuted ? ` (${partner} is muted)` : ''}.`;
    case 'reconnecting':
      return `Connection to ${partner} dropped; reconnecting…`;
    case 'failed':
      return 'The call could not be set up.';
    case 'ended':
      return 'The session has ended; so has the call.';
  }
  return '';
}
