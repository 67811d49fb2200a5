/**
 * Keep the class view fresh: `GET /api/class` now and then every `interval` ms (live rooms
 * come and go), while the view is shown. A failure is reported once per streak of failures;
 * the next success clears it.
 */
import { IClassView, api } from '../api';

export interface IClassWatchCallbacks {
  onView: (view: IClassView) => void;
  onError: (message: string) => void;
}

export class ClassWatcher {
  constructor(
    private callbacks: IClassWatchCallbacks,
    private interval = 10000,
    private load: () => Promise<IClassView> = api.classView
  ) {}

  start(): void {
    this.stopped = false;
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** Refresh now (after opening a room, say), then keep the usual rhythm. */
  refresh(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    void this.poll();
  }

  private poll = async (): Promise<void> => {
    if (this.stopped) {
      return;
    }
    try {
      const view = await this.load();
      this.failures = 0;
      if (!this.stopped) {
        this.callbacks.onView(view);
      }
    } catch (error) {
      this.failures += 1;
      if (this.failures === 1 && !this.stopped) {
        this.callbacks.onError(String((error as Error).message ?? error));
      }
    }
    if (!this.stopped && this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.poll();
      }, this.interval);
    }
  };

  private stopped = false;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
}
