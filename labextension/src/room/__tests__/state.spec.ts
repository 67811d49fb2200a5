import { IRoom, IRun } from '../../api';
import {
  IRoomState,
  RoomEvent,
  busyAnnouncement,
  canRun,
  connectionLost,
  displayName,
  elapsedSeconds,
  initialRoomState,
  isFinished,
  isOver,
  partners,
  roomReducer,
  shownRun
} from '../state';

function room(over: Partial<IRoom> = {}): IRoom {
  return {
    id: 'r1',
    state: 'active',
    pair_user: 'pair-1',
    url: '/user/pair-1/lab',
    notebook_path: 'q.ipynb',
    question: {
      id: 'q',
      title: 'Q',
      difficulty: 'easy',
      topics: [],
      prompt: ''
    },
    members: [
      { name: 'alice', display_name: 'Alice', online: true },
      { name: 'bob', display_name: '', online: false }
    ],
    elapsed_s: 10,
    ...over
  };
}

function run(id: string): IRun {
  return { id, kind: 'run', username: 'alice' } as unknown as IRun;
}

function play(
  events: RoomEvent[],
  start: IRoomState = initialRoomState(0)
): IRoomState {
  return events.reduce(roomReducer, start);
}

describe('room panel state', () => {
  it('ticks the session clock from the service elapsed time', () => {
    const s = play([
      { type: 'loaded', room: room(), now: 1000 },
      { type: 'tick', now: 4000 }
    ]);
    expect(elapsedSeconds(s)).toBe(13);
    // A clock running behind the last answer never moves time backwards.
    expect(elapsedSeconds(roomReducer(s, { type: 'tick', now: 2000 }))).toBe(
      13
    );
  });

  it('says contact is lost after three failed polls in a row, and recovers', () => {
    let s = play([{ type: 'loaded', room: room(), now: 0 }]);
    s = play([{ type: 'room_failed' }, { type: 'room_failed' }], s);
    expect(connectionLost(s)).toBe(false);
    s = roomReducer(s, { type: 'room_failed' });
    expect(connectionLost(s)).toBe(true);
    s = roomReducer(s, { type: 'room', room: room(), now: 1 });
    expect(connectionLost(s)).toBe(false);
  });

  it('ends the session when the room is gone, and a late poll does not revive it', () => {
    let s = play([
      { type: 'loaded', room: room(), now: 0 },
      { type: 'room_gone' }
    ]);
    expect(isOver(s)).toBe(true);
    expect(isFinished(s)).toBe(true);
    s = roomReducer(s, {
      type: 'room',
      room: room({ state: 'active' }),
      now: 5
    });
    expect(s.room?.state).toBe('ended');
  });

  it('treats ending as over but not yet saved', () => {
    const s = play([
      { type: 'loaded', room: room({ state: 'ending' }), now: 0 }
    ]);
    expect(isOver(s)).toBe(true);
    expect(isFinished(s)).toBe(false);
    expect(canRun(s)).toBe(false);
  });

  it('runs one thing at a time and shows the newest run unless one is selected', () => {
    let s = play([
      { type: 'loaded', room: room(), now: 0 },
      { type: 'runs', runs: [run('b'), run('a')] }
    ]);
    expect(shownRun(s)?.id).toBe('b');
    s = roomReducer(s, { type: 'select', id: 'a' });
    expect(shownRun(s)?.id).toBe('a');
    s = roomReducer(s, { type: 'run_started', kind: 'submit' });
    expect(canRun(s)).toBe(false);
    expect(busyAnnouncement(s.busy)).toBe('Submitting…');
    s = roomReducer(s, { type: 'run_started', kind: 'run' });
    expect(s.busy).toBe('submit');
    s = roomReducer(s, { type: 'run_done', run: run('c') });
    expect(s.runs.map(r => r.id)).toEqual(['c', 'b', 'a']);
    expect(shownRun(s)?.id).toBe('c');
    expect(canRun(s)).toBe(true);
    s = play([{ type: 'run_started', kind: 'run' }, { type: 'run_failed' }], s);
    expect(s.busy).toBeNull();
    expect(s.runs).toHaveLength(3);
  });

  it('names members and lists the partners', () => {
    const r = room();
    expect(displayName(r, 'alice')).toBe('Alice');
    expect(displayName(r, 'bob')).toBe('bob');
    expect(displayName(r, 'carol')).toBe('carol');
    expect(displayName(r, null)).toBe('someone');
    expect(partners(r, 'alice').map(m => m.name)).toEqual(['bob']);
  });

  it('remembers that there is no room, or why it could not load', () => {
    expect(play([{ type: 'no_room' }]).noRoom).toBe(true);
    expect(play([{ type: 'load_failed', message: 'Down.' }]).loadError).toBe(
      'Down.'
    );
  });
});
