/**
 * The session record of an attempt (`GET /api/history/{id}/record`) and its replay: the
 * notebook's cells at any moment, rebuilt from the service's replay steps. Pure functions,
 * jest-tested; `components/recordView.tsx` draws them.
 *
 * A step is `[ms, user index, cell index or -1, change]`; a change is a text delta of one
 * cell (`[{retain}|{insert}|{delete}]`), or for the cell list `{insert: [[type, source]],
 * at}`, `{delete: n, at}`, a cell replaced `{set, type}`, or a full `{reset: [[type, source]]}`.
 */

export interface IReplayCell {
  type: string;
  source: string;
}

export type Step = [number, number, number, any];

export interface IMark {
  at_ms: number;
  kind: string; // run | submit | paste
  user: string;
  passed?: number;
}

export interface IRecordReplay {
  users: string[];
  steps: Step[];
  start_ms: number;
  end_ms: number;
  marks: IMark[];
}

export interface IStudentMetrics {
  edits: number;
  active_typing_s: number;
  chars_kept: number;
  share: number;
  runs: number;
  submits: number;
  pastes: number;
}

export interface IPaste {
  at_ms: number;
  user: string;
  cell: number;
  text: string;
}

export interface IRunDiff {
  from_ms: number;
  to_ms: number;
  kind: string;
  user: string;
  before: string;
  after: string;
  diff: string[];
}

export interface IRecord {
  room_id: string;
  recorded: boolean;
  metrics: {
    students: Record<string, IStudentMetrics>;
    runs: number;
    submits: number;
    first_run_s: number | null;
    first_pass_s: number | null;
    longest_idle_s: number;
    duration_s: number;
  };
  pastes: IPaste[];
  diffs: IRunDiff[];
  final_sources: string[];
  replay: IRecordReplay;
}

function applyText(source: string, delta: any[]): string {
  let pos = 0;
  let out = source;
  for (const op of delta) {
    if (op.retain !== undefined) {
      pos += op.retain;
    } else if (op.delete !== undefined) {
      out = out.slice(0, pos) + out.slice(pos + op.delete);
    } else if (op.insert !== undefined) {
      const text = String(op.insert);
      out = out.slice(0, pos) + text + out.slice(pos);
      pos += text.length;
    }
  }
  return out;
}

/** `cells` after one step (a new array; the input is not changed). */
export function applyStep(cells: IReplayCell[], step: Step): IReplayCell[] {
  const [, , index, change] = step;
  const next = cells.slice();
  if (index >= 0) {
    if (index >= next.length) {
      return next;
    }
    if (Array.isArray(change)) {
      next[index] = {
        ...next[index],
        source: applyText(next[index].source, change)
      };
    } else if (change && change.set !== undefined) {
      next[index] = { type: change.type, source: change.set };
    }
    return next;
  }
  if (change.reset) {
    return change.reset.map((c: [string, string]) => ({
      type: c[0],
      source: c[1]
    }));
  }
  if (change.insert) {
    const added = change.insert.map((c: [string, string]) => ({
      type: c[0],
      source: c[1]
    }));
    next.splice(change.at, 0, ...added);
  } else if (change.delete !== undefined) {
    next.splice(change.at, change.delete);
  }
  return next;
}

/**
 * Replays a record quickly at any moment: a copy of the cells is kept every `every` steps,
 * so a seek applies at most `every` steps.
 */
export class Replayer {
  private readonly checkpoints: IReplayCell[][] = [];

  constructor(
    readonly replay: IRecordReplay,
    private readonly every = 200
  ) {
    let cells: IReplayCell[] = [];
    this.checkpoints.push(cells);
    replay.steps.forEach((step, i) => {
      cells = applyStep(cells, step);
      if ((i + 1) % every === 0) {
        this.checkpoints.push(cells);
      }
    });
  }

  /** How many steps happened at or before `ms`. */
  stepsUntil(ms: number): number {
    const steps = this.replay.steps;
    let lo = 0;
    let hi = steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (steps[mid][0] <= ms) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The cells as they were at `ms` (every step at or before it applied). */
  cellsAt(ms: number): IReplayCell[] {
    const count = this.stepsUntil(ms);
    const base = Math.floor(count / this.every);
    let cells = this.checkpoints[Math.min(base, this.checkpoints.length - 1)];
    for (let i = base * this.every; i < count; i++) {
      cells = applyStep(cells, this.replay.steps[i]);
    }
    return cells;
  }

  /** Who made the last step at or before `ms` ("" for none or the question). */
  authorAt(ms: number): string {
    const count = this.stepsUntil(ms);
    return count
      ? (this.replay.users[this.replay.steps[count - 1][1]] ?? '')
      : '';
  }
}

/** "m:ss" of `ms` since the session's start. */
export function clock(ms: number, startMs: number): string {
  const seconds = Math.max(0, Math.floor((ms - startMs) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
