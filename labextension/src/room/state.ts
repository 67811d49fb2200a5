/**
 * The room panel as a pure state machine: the room (loaded, polled, heartbeats), its runs, the
 * run or submit in flight, the end of the session, and the session clock. Events come from the
 * user (run, select, end), from the service (./watch.ts: the room and runs polls, heartbeats)
 * and from a clock (tick). An ended room stays ended: a late poll never brings it back.
 */
import { IMember, IRoom, IRun, RunKind } from '../api';
import { DEFAULT_VOCABULARY } from '../vocabulary';

export interface IRoomState {
  room: IRoom | null;
  loadError: string | null;
  /** The caller has no active session here. */
  noRoom: boolean;
  runs: IRun[];
  selected: string | null;
  busy: RunKind | null;
  ending: boolean;
  /** Consecutive failed room polls (not counting a room found gone). */
  roomFailures: number;
  /** The service's elapsed_s at the last room answer and the client clock (ms) then. */
  elapsedAt: { s: number; at: number } | null;
  now: number;
}

export type RoomEvent =
  | { type: 'loaded'; room: IRoom; now: number }
  | { type: 'no_room' }
  | { type: 'load_failed'; message: string }
  /** A room answer: the poll, a heartbeat or End. */
  | { type: 'room'; room: IRoom; now: number }
  /** The room is gone for us (share revoked, server stopped): the session is over. */
  | { type: 'room_gone' }
  | { type: 'room_failed' }
  | { type: 'runs'; runs: IRun[] }
  | { type: 'run_started'; kind: RunKind }
  | { type: 'run_done'; run: IRun }
  | { type: 'run_failed' }
  | { type: 'select'; id: string }
  | { type: 'ending'; ending: boolean }
  | { type: 'tick'; now: number };

/** Room polls that may fail in a row before the panel says contact is lost. */
export const LOST_AFTER = 3;

export function initialRoomState(now = 0): IRoomState {
  return {
    room: null,
    loadError: null,
    noRoom: false,
    runs: [],
    selected: null,
    busy: null,
    ending: false,
    roomFailures: 0,
    elapsedAt: null,
    now
  };
}

/** The session is over for the students ("ending" too: the server stops soon after). */
export function isOver(
  state: IRoomState,
  over: string[] = DEFAULT_VOCABULARY.room_states.over
): boolean {
  return !!state.room && over.includes(state.room.state);
}

/** The room has ended and its notebook is in the students' history. */
export function isFinished(state: IRoomState): boolean {
  return state.room?.state === 'ended';
}

export function connectionLost(state: IRoomState): boolean {
  return state.roomFailures >= LOST_AFTER;
}

function accept(state: IRoomState, room: IRoom, now: number): IRoomState {
  if (state.room?.state === 'ended' && room.state !== 'ended') {
    return state; // sticky: a slow poll answered before the end
  }
  return {
    ...state,
    room,
    roomFailures: 0,
    elapsedAt:
      typeof room.elapsed_s === 'number'
        ? { s: room.elapsed_s, at: now }
        : state.elapsedAt,
    now: Math.max(state.now, now)
  };
}

export function roomReducer(state: IRoomState, event: RoomEvent): IRoomState {
  switch (event.type) {
    case 'loaded':
      return accept(
        { ...state, noRoom: false, loadError: null },
        event.room,
        event.now
      );
    case 'no_room':
      return { ...state, noRoom: true };
    case 'load_failed':
      return { ...state, loadError: event.message };
    case 'room':
      return accept(state, event.room, event.now);
    case 'room_gone':
      return state.room
        ? { ...state, room: { ...state.room, state: 'ended' } }
        : state;
    case 'room_failed':
      return { ...state, roomFailures: state.roomFailures + 1 };
    case 'runs':
      return { ...state, runs: event.runs };
    case 'run_started':
      return state.busy ? state : { ...state, busy: event.kind };
    case 'run_done':
      return {
        ...state,
        busy: null,
        selected: null,
        runs: [event.run, ...state.runs.filter(r => r.id !== event.run.id)]
      };
    case 'run_failed':
      return { ...state, busy: null };
    case 'select':
      return { ...state, selected: event.id };
    case 'ending':
      return { ...state, ending: event.ending };
    case 'tick':
      return { ...state, now: Math.max(state.now, event.now) };
    default:
      return state;
  }
}

/** Seconds of the session so far, ticking between room answers. */
export function elapsedSeconds(state: IRoomState): number {
  const e = state.elapsedAt;
  return e ? e.s + (state.now - e.at) / 1000 : 0;
}

/** The run shown in the results pane: the one selected, else the newest. */
export function shownRun(state: IRoomState): IRun | null {
  return (
    (state.selected && state.runs.find(r => r.id === state.selected)) ||
    state.runs[0] ||
    null
  );
}

/** The other people in the room. */
export function partners(
  room: IRoom,
  me: string | null | undefined
): IMember[] {
  return room.members.filter(m => m.name !== me);
}

/** A member's display name, their user name if they have none, "someone" for nobody. */
export function displayName(
  room: IRoom,
  name: string | null | undefined
): string {
  if (!name) {
    return 'someone';
  }
  const member = room.members.find(m => m.name === name);
  return member ? member.display_name || member.name : name;
}

/** Run and Submit are offered only in an active room with nothing in flight. */
export function canRun(state: IRoomState): boolean {
  return !state.busy && state.room?.state === 'active';
}

/** For the screen reader: what is in flight. */
export function busyAnnouncement(busy: RunKind | null): string {
  if (!busy) {
    return '';
  }
  return busy === 'run' ? 'Running the public tests…' : 'Submitting…';
}
