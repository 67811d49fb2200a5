/**
 * Follow a matched room until it can be entered: poll `GET api/rooms/{id}` every second,
 * decide with the pure `roomStep`, and open it (after a short pause so the student reads who
 * the partner is) once it is active. Stops on a final answer or when stopped.
 */
import { IRoom, api } from '../api';
import { RoomStep, roomStep } from './state';

export interface IRoomOpenCallbacks {
  onStatus: (status: string) => void;
  onOpen: (url: string) => void;
  /** A room that cannot start: its message. */
  onFailed: (message: string) => void;
  /** The first failure to reach the service (later ones in the same streak are quiet). */
  onError: (error: unknown) => void;
}

export class RoomOpener {
  constructor(
    readonly roomId: string,
    private fallbackUrl: string,
    private callbacks: IRoomOpenCallbacks,
    private pollMs = 1000,
    private openDelayMs = 1200,
    private fetchRoom: (id: string) => Promise<IRoom> = id => api.room(id)
  ) {}

  start(): void {
    this.started = Date.now();
    this.callbacks.onStatus('Preparing your room…');
    this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private later(fn: () => void, ms: number): void {
    if (!this.stopped) {
      this.timer = setTimeout(fn, ms);
    }
  }

  private act(step: RoomStep): void {
    if (this.stopped) {
      return;
    }
    this.callbacks.onStatus(step.status);
    switch (step.kind) {
      case 'open':
        this.later(() => this.callbacks.onOpen(step.url), this.openDelayMs);
        return;
      case 'failed':
        this.callbacks.onFailed(step.status);
        return;
      case 'give_up':
        return;
      default:
        this.later(this.check, this.pollMs);
    }
  }

  private check = (): void => {
    if (this.stopped) {
      return;
    }
    this.fetchRoom(this.roomId)
      .then(room => this.act(roomStep(room, this.fallbackUrl, 0)))
      .catch(error => {
        if (this.stopped) {
          return;
        }
        this.failures += 1;
        if (this.failures === 1) {
          this.callbacks.onError(error);
        }
        const step = roomStep(
          null,
          this.fallbackUrl,
          Date.now() - this.started
        );
        if (step.kind === 'give_up') {
          this.callbacks.onStatus(step.status);
          return;
        }
        this.later(this.check, this.pollMs);
      });
  };

  private stopped = false;
  private started = 0;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
}
