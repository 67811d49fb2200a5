/**
 * The room panel's timers in one place: the room poll (every second until the room has
 * ended), the runs poll (every 3 s while the session is on, so both partners see each other's
 * runs), the presence heartbeat (every 10 s while the session is on) and the session clock
 * (every second while the session is on). The panel tells the watcher when the session is
 * over (`setOver`) or finished (`setFinished`); the watcher reports what it hears.
 */
import { IRoom, IRun, api } from '../api';
import { PeerPrepError } from '../request';
import { LOST_AFTER } from './state';

/** 403: share revoked (PeerPrep revokes first when a session ends); 424: server stopped;
 * 404: gone. Each means the session is over for the caller. */
const GONE = [403, 404, 424];

export interface IRoomWatchCallbacks {
  onRoom: (room: IRoom) => void;
  onRoomGone: () => void;
  onRoomFailed: () => void;
  /** The room poll failed LOST_AFTER times in a row. */
  onConnectionLost: (error: unknown) => void;
  onRuns: (runs: IRun[]) => void;
  /** The heartbeat failed twice in a row. */
  onHeartbeatLost: (error: unknown) => void;
  onTick: (now: number) => void;
}

export interface IRoomWatchIntervals {
  roomPollMs?: number;
  runsPollMs?: number;
  heartbeatMs?: number;
  clockMs?: number;
}

type Timer = ReturnType<typeof setInterval>;

export class RoomWatcher {
  constructor(
    readonly roomId: string,
    private callbacks: IRoomWatchCallbacks,
    private intervals: IRoomWatchIntervals = {}
  ) {}

  /** Start every timer; `over`/`finished` as the room is now. */
  start(over: boolean, finished: boolean): void {
    this.stopped = false;
    this.setFinished(finished);
    this.setOver(over, true);
  }

  stop(): void {
    this.stopped = true;
    this.clear('room');
    this.clear('runs');
    this.clear('heartbeat');
    this.clear('clock');
  }

  /** Whether the session is over: runs are read once more, then heartbeat, runs and clock stop. */
  setOver(over: boolean, force = false): void {
    if (this.stopped || (over === this.over && !force)) {
      return;
    }
    this.over = over;
    void this.refreshRuns();
    if (over) {
      this.clear('runs');
      this.clear('heartbeat');
      this.clear('clock');
      return;
    }
    this.every(
      'runs',
      () => void this.refreshRuns(),
      this.intervals.runsPollMs ?? 3000
    );
    this.heartbeatFailures = 0;
    void this.beat();
    this.every(
      'heartbeat',
      () => void this.beat(),
      this.intervals.heartbeatMs ?? 10000
    );
    this.every(
      'clock',
      () => this.callbacks.onTick(Date.now()),
      this.intervals.clockMs ?? 1000
    );
  }

  /** Whether the room has ended: then the room poll stops too. */
  setFinished(finished: boolean): void {
    if (this.stopped) {
      return;
    }
    if (finished) {
      this.clear('room');
    } else if (!this.timers.room) {
      this.every(
        'room',
        () => void this.pollRoom(),
        this.intervals.roomPollMs ?? 1000
      );
    }
  }

  refreshRuns(): Promise<void> {
    return api
      .runs(this.roomId)
      .then(answer => {
        if (!this.stopped) {
          this.callbacks.onRuns(answer.runs);
        }
      })
      .catch(error => {
        if (!(error instanceof PeerPrepError && error.status === 0)) {
          console.warn('PeerPrep: loading runs failed', error);
        }
      });
  }

  private pollRoom(): Promise<void> {
    return api
      .room(this.roomId)
      .then(room => {
        this.roomFailures = 0;
        if (!this.stopped) {
          this.callbacks.onRoom(room);
        }
      })
      .catch(error => {
        if (this.stopped) {
          return;
        }
        if (error instanceof PeerPrepError && GONE.includes(error.status)) {
          this.callbacks.onRoomGone();
          return;
        }
        this.roomFailures += 1;
        this.callbacks.onRoomFailed();
        if (this.roomFailures === LOST_AFTER) {
          this.callbacks.onConnectionLost(error);
        }
      });
  }

  private beat(): Promise<void> {
    return api
      .heartbeat(this.roomId)
      .then(room => {
        this.heartbeatFailures = 0;
        if (!this.stopped) {
          this.callbacks.onRoom(room);
        }
      })
      .catch(error => {
        this.heartbeatFailures += 1;
        if (this.heartbeatFailures === 2 && !this.stopped) {
          this.callbacks.onHeartbeatLost(error);
        }
      });
  }

  private every(name: string, fn: () => void, ms: number): void {
    this.clear(name);
    this.timers[name] = setInterval(fn, ms);
  }

  private clear(name: string): void {
    const timer = this.timers[name];
    if (timer) {
      clearInterval(timer);
      delete this.timers[name];
    }
  }

  private stopped = false;
  private over = false;
  private roomFailures = 0;
  private heartbeatFailures = 0;
  private timers: Record<string, Timer> = {};
}
