/**
 * Small pure formatting helpers shared by the panels (no JupyterLab imports, so jest can load
 * them in node).
 */
import { IMe } from './api';

/** A one-word description of the user's role, for the panel header. */
export function roleLabel(me: IMe): string {
  if (me.is_admin) {
    return 'admin';
  }
  if (me.is_instructor) {
    return 'instructor';
  }
  return 'student';
}

/** A stopwatch reading: "0:07", "2:05", "1:02:03". */
export function formatClock(seconds: number): string {
  const total = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  if (h > 0) {
    return `${h}:${String(m).padStart(2, '0')}:${ss}`;
  }
  return `${m}:${ss}`;
}

/** A duration in words: "45 s", "12 min", "1 h 05 min"; "—" when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '—';
  }
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) {
    return `${total} s`;
  }
  const minutes = Math.round(total / 60);
  if (minutes < 60) {
    return `${minutes} min`;
  }
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A date-time for lists, in the browser's locale; "—" for a missing or bad value. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) {
    return '—';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  });
}

/** The hub's root path from PageConfig's hubPrefix ("/hub/" → "/", "/jh/hub/" → "/jh/"). */
export function hubRoot(hubPrefix: string): string {
  const prefix = hubPrefix || '/hub/';
  const root = prefix.replace(/hub\/?$/, '');
  return root.endsWith('/') ? root : root + '/';
}

/** The student's own lab, opening the history entry of a room. */
export function historyLink(
  hubPrefix: string,
  student: string,
  roomId: string
): string {
  if (!student) {
    return hubRoot(hubPrefix) + 'hub/home';
  }
  return (
    hubRoot(hubPrefix) +
    `user/${encodeURIComponent(student)}/lab?peerprep-history=${encodeURIComponent(roomId)}`
  );
}

/** A fresh idempotency key for one "Find a partner" press. */
export function newKey(): string {
  const c: any = (globalThis as any).crypto;
  if (c && typeof c.randomUUID === 'function') {
    return c.randomUUID();
  }
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
