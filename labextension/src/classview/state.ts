/**
 * The instructors' class view as a pure state machine: events in, UI state out.
 *
 * Events come from the watcher (a fresh `GET /api/class`, or a failed one), from the instructor
 * (sort a table, open a live room, export) and from the answers to those. A failed refresh keeps
 * the last figures on screen and says so; opening a room that has ended since the last refresh
 * is answered by the service (409/404) and shown as an error next to the room.
 */
import { IClassQuestion, IClassStudent, IClassView } from '../api';

export type QuestionSort = 'title' | 'attempts' | 'pass_rate' | 'median';
export type StudentSort = 'name' | 'attempts' | 'passed' | 'rating';

export interface IClassState {
  phase: 'loading' | 'ready' | 'error';
  view: IClassView | null;
  /** Client clock (ms) of the last good refresh. */
  updatedMs: number | null;
  /** The last refresh failed (the figures shown are from `updatedMs`). */
  stale: string | null;
  questionSort: QuestionSort;
  studentSort: StudentSort;
  /** The live room being opened now, and the URL of each one opened. */
  opening: string | null;
  opened: Record<string, string>;
  roomErrors: Record<string, string>;
  exporting: boolean;
  error: string | null;
  /** Text for the aria-live region: changes only when something worth announcing happens. */
  announcement: string;
}

export type ClassEvent =
  | { type: 'loaded'; view: IClassView; now: number }
  | { type: 'load_failed'; message: string }
  | { type: 'sort_questions'; by: QuestionSort }
  | { type: 'sort_students'; by: StudentSort }
  | { type: 'open'; roomId: string }
  | { type: 'opened'; roomId: string; url: string }
  | { type: 'open_failed'; roomId: string; message: string }
  | { type: 'export' }
  | { type: 'exported'; students: number }
  | { type: 'export_failed'; message: string };

export const initialClassState: IClassState = {
  phase: 'loading',
  view: null,
  updatedMs: null,
  stale: null,
  questionSort: 'title',
  studentSort: 'name',
  opening: null,
  opened: {},
  roomErrors: {},
  exporting: false,
  error: null,
  announcement: ''
};

export function classReducer(
  state: IClassState,
  event: ClassEvent
): IClassState {
  switch (event.type) {
    case 'loaded': {
      const live = new Set(event.view.live.map(r => r.id));
      const before = new Set((state.view?.live ?? []).map(r => r.id));
      const started = event.view.live.filter(r => !before.has(r.id)).length;
      const ended = [...before].filter(id => !live.has(id)).length;
      let announcement = state.announcement;
      if (state.view === null) {
        announcement = `Class view loaded: ${event.view.students.length} students, ${event.view.live.length} live rooms.`;
      } else if (started || ended) {
        announcement = `${event.view.live.length} live rooms now.`;
      }
      return {
        ...state,
        phase: 'ready',
        view: event.view,
        updatedMs: event.now,
        stale: null,
        opened: keep(state.opened, live),
        roomErrors: keep(state.roomErrors, live),
        announcement
      };
    }
    case 'load_failed':
      if (state.view === null) {
        return {
          ...state,
          phase: 'error',
          error: event.message,
          announcement: event.message
        };
      }
      return { ...state, stale: event.message };
    case 'sort_questions':
      return { ...state, questionSort: event.by };
    case 'sort_students':
      return { ...state, studentSort: event.by };
    case 'open':
      if (state.opening !== null) {
        return state;
      }
      return {
        ...state,
        opening: event.roomId,
        roomErrors: omit(state.roomErrors, event.roomId)
      };
    case 'opened':
      return {
        ...state,
        opening: null,
        opened: { ...state.opened, [event.roomId]: event.url },
        announcement: 'Room opened in a new tab; its students are told.'
      };
    case 'open_failed':
      return {
        ...state,
        opening: null,
        roomErrors: { ...state.roomErrors, [event.roomId]: event.message },
        announcement: event.message
      };
    case 'export':
      return { ...state, exporting: true, error: null };
    case 'exported':
      return {
        ...state,
        exporting: false,
        announcement: `Exported ${event.students} students as CSV.`
      };
    case 'export_failed':
      return {
        ...state,
        exporting: false,
        error: event.message,
        announcement: event.message
      };
  }
}

function keep(
  map: Record<string, string>,
  ids: Set<string>
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const id of Object.keys(map)) {
    if (ids.has(id)) {
      kept[id] = map[id];
    }
  }
  return kept;
}

function omit(map: Record<string, string>, id: string): Record<string, string> {
  const rest = { ...map };
  delete rest[id];
  return rest;
}

/** Questions in the chosen order (counts and rates: highest first; unknown last). */
export function sortedQuestions(state: IClassState): IClassQuestion[] {
  const rows = [...(state.view?.questions ?? [])];
  const by = state.questionSort;
  const title = (a: IClassQuestion, b: IClassQuestion) =>
    a.title.localeCompare(b.title);
  if (by === 'title') {
    return rows.sort(title);
  }
  const value = (q: IClassQuestion): number | null =>
    by === 'attempts'
      ? q.attempts
      : by === 'pass_rate'
        ? q.pass_rate
        : q.median_seconds_to_pass;
  return rows.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === vb) {
      return title(a, b);
    }
    if (va === null) {
      return 1;
    }
    if (vb === null) {
      return -1;
    }
    // Median time: quickest first; counts and rates: highest first.
    return by === 'median' ? va - vb : vb - va;
  });
}

export function sortedStudents(state: IClassState): IClassStudent[] {
  const rows = [...(state.view?.students ?? [])];
  const by = state.studentSort;
  const name = (a: IClassStudent, b: IClassStudent) =>
    (a.display_name || a.name).localeCompare(b.display_name || b.name);
  if (by === 'name') {
    return rows.sort(name);
  }
  return rows.sort((a, b) => b[by] - a[by] || name(a, b));
}

/** "67 %" or "–" when nobody tried. */
export function passRateLabel(rate: number | null): string {
  return rate === null ? '–' : `${Math.round(rate * 100)} %`;
}

/** "3 min 30 s", "45 s", or "–" when nobody passed. */
export function durationLabel(seconds: number | null): string {
  if (seconds === null) {
    return '–';
  }
  const s = Math.round(seconds);
  if (s < 60) {
    return `${s} s`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h) {
    return `${h} h ${m} min`;
  }
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

/** "O(n) ×2, O(n^2) ×1" (most frequent first), or "–". */
export function complexityLabel(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0])
  );
  return entries.length
    ? entries.map(([k, n]) => `${k} ×${n}`).join(', ')
    : '–';
}
