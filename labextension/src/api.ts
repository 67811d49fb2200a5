/**
 * Types of the PeerPrep service's JSON (see the shared contracts in docs/) and typed calls.
 *
 * Every call goes through `requestAPI` (the relay of this Jupyter server), so a failure is a
 * `PeerPrepError` carrying the service's `message`.
 */
import type { IChatLine } from './talk/transcript';
import { requestAPI } from './request';

export type Difficulty = 'easy' | 'medium' | 'hard';
export const DIFFICULTIES: Difficulty[] = ['easy', 'medium', 'hard'];

/** The topic vocabulary (jupyter_peerprep/questions/vocabulary.py), used when counts fail. */
export const TOPICS: string[] = [
  'arrays',
  'strings',
  'hash-maps',
  'two-pointers',
  'sliding-window',
  'stacks-queues',
  'linked-lists',
  'trees',
  'graphs',
  'heaps',
  'binary-search',
  'dynamic-programming',
  'greedy',
  'backtracking',
  'bit-manipulation',
  'math',
  'sorting',
  'intervals',
  'recursion',
  'matrix',
  'prefix-sums',
  'design'
];

export interface IMe {
  name: string;
  groups: string[];
  roles: string[];
  is_instructor: boolean;
  is_admin: boolean;
}

export interface IHealth {
  status: string;
  version: string;
  database: string;
}

export interface IQuestionCounts {
  difficulty: Record<string, number>;
  topic: Record<string, number>;
  difficulty_topic?: Record<string, Record<string, number>>;
  /** Questions that can be solved in each language (all have Python). */
  language?: Record<string, number>;
  total?: number;
}

export interface IQuestionList {
  questions: {
    id: string;
    title: string;
    difficulty: string;
    topics: string[];
  }[];
  total: number;
  counts: IQuestionCounts;
  /** The languages the lobby offers (those whose kernels the rooms have). */
  languages?: string[];
}

export interface IMatchRequest {
  difficulty: Difficulty;
  topics: string[];
  language: string;
}

export type TicketState =
  'waiting' | 'relaxed' | 'matched' | 'timed_out' | 'cancelled';

export interface ITicketRoom {
  id: string;
  pair_user: string;
  url: string;
  state?: string;
  question: { id: string; title: string };
  partner: { name: string; display_name: string };
}

export interface ITicket {
  id: string;
  state: TicketState;
  difficulty: Difficulty;
  topics: string[];
  language: string;
  relax_level: number;
  criteria: { difficulties: string[]; topics: string[] | null };
  created: string;
  elapsed_s: number;
  message: string;
  room: ITicketRoom | null;
}

export interface IMember {
  name: string;
  display_name: string;
  online: boolean;
  last_seen?: string | null;
}

export type RoomState = 'starting' | 'active' | 'ending' | 'ended' | 'failed';

export interface IRoom {
  id: string;
  state: RoomState;
  pair_user: string;
  url: string;
  notebook_path: string;
  question: {
    id: string;
    title: string;
    difficulty: string;
    topics: string[];
    prompt: string;
    /** The room's language (its notebook's kernel) and the starter in it. */
    language?: string;
    starter?: string;
  };
  members: IMember[];
  created?: string | null;
  started?: string | null;
  ended?: string | null;
  ended_by?: string | null;
  end_reason?: string | null;
  elapsed_s?: number | null;
  message?: string | null;
  /** Instructors who opened this room from the class view. */
  observers?: string[];
}

export interface ICaseResult {
  name: string;
  passed: boolean;
  reason?: string | null;
  args?: unknown;
  expected?: unknown;
  got?: unknown;
  stdout?: string | null;
  stderr?: string | null;
  error?: string | null;
  wall_ms?: number | null;
  cpu_ms?: number | null;
  peak_kb?: number | null;
}

export interface IComplexityPoint {
  n: number;
  seconds: number;
}

/** A growth class with its confidence and what it was measured by. */
export interface IGrowth {
  estimate: string | null;
  confidence: number;
  /** "steps" | "cpu time" (time); "allocated peak" | "resident size" (space). */
  basis: string;
  note?: string;
}

export interface IComplexity {
  estimate: string | null;
  confidence: number;
  expected: string | null;
  matches: boolean;
  points: IComplexityPoint[];
  message?: string;
  /** What the time class was measured by ("steps" or "cpu time"). */
  basis?: string;
  /** The class of the solution's peak memory. */
  space?: IGrowth;
}

export type RunKind = 'run' | 'submit';

export interface IRun {
  id: string;
  kind: RunKind;
  username: string;
  created: string;
  passed: number;
  total: number;
  verdict: string;
  message?: string;
  cases: ICaseResult[];
  complexity: IComplexity | null;
}

export interface IAttemptResult {
  passed: number;
  total: number;
  verdict: string;
  complexity: IComplexity | null;
}

export interface IAttempt {
  room_id: string;
  question: { id: string; title: string; difficulty: string; topics: string[] };
  partner: { name: string; display_name: string } | null;
  state?: string;
  started: string | null;
  ended: string | null;
  duration_s: number | null;
  end_reason: string | null;
  /** What happened, in a sentence, when the session did not end normally (else ""). */
  end_message?: string;
  result: IAttemptResult | null;
}

export interface INotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[]; [key: string]: unknown };
  [key: string]: unknown;
}

export interface INotebook {
  cells: INotebookCell[];
  metadata?: Record<string, unknown>;
  nbformat?: number;
  nbformat_minor?: number;
}

export interface IAttemptDetail extends IAttempt {
  final_notebook: INotebook | null;
  runs: IRun[];
  /** The room chat's transcript (hub/talk/transcript.py). */
  chat?: IChatLine[];
}

export type Proficiency = 'beginner' | 'intermediate' | 'advanced';
export const PROFICIENCIES: Proficiency[] = [
  'beginner',
  'intermediate',
  'advanced'
];

export interface IProfile {
  name?: string;
  display_name: string;
  proficiency: Proficiency;
  language: string;
  topics: string[];
  rating?: number;
}

/** The class view (GET /api/class, instructors only). */
export interface IClassQuestion {
  id: string;
  title: string;
  difficulty: string;
  attempts: number;
  passed: number;
  pass_rate: number | null;
  median_seconds_to_pass: number | null;
  /** Measured complexity estimate -> attempts ("not measured" when none was). */
  complexity: Record<string, number>;
}

export interface IClassStudent {
  name: string;
  display_name: string;
  email: string;
  attempts: number;
  passed: number;
  submits: number;
  rating: number;
  questions: string[];
}

export interface ILiveRoom {
  id: string;
  question_id: string;
  title: string;
  difficulty: string;
  members: string[];
  started: string | null;
  observers: string[];
}

export interface IClassView {
  courses: string[];
  questions: IClassQuestion[];
  students: IClassStudent[];
  live: ILiveRoom[];
}

const json = (method: string, body?: unknown): RequestInit => ({
  method,
  body: body === undefined ? undefined : JSON.stringify(body),
  headers: { 'Content-Type': 'application/json' }
});

const enc = encodeURIComponent;

export const api = {
  me: () => requestAPI<IMe>('me'),
  health: () => requestAPI<IHealth>('health'),
  questions: () => requestAPI<IQuestionList>('questions?limit=200'),
  match: (request: IMatchRequest, idempotencyKey: string) =>
    requestAPI<ITicket>(
      'match',
      json('POST', { ...request, idempotency_key: idempotencyKey })
    ),
  ticket: (id: string) => requestAPI<ITicket>(`match/${enc(id)}`),
  cancel: (id: string) =>
    requestAPI<ITicket>(`match/${enc(id)}`, { method: 'DELETE' }),
  currentRoom: () => requestAPI<{ room: IRoom | null }>('rooms/current'),
  room: (id: string) => requestAPI<IRoom>(`rooms/${enc(id)}`),
  heartbeat: (id: string) =>
    requestAPI<IRoom>(`rooms/${enc(id)}/heartbeat`, json('POST', {})),
  endRoom: (id: string) =>
    requestAPI<IRoom>(`rooms/${enc(id)}/end`, json('POST', {})),
  runs: (id: string) => requestAPI<{ runs: IRun[] }>(`rooms/${enc(id)}/runs`),
  run: (id: string, kind: RunKind, source: string) =>
    requestAPI<IRun>(`rooms/${enc(id)}/runs`, json('POST', { kind, source })),
  history: () => requestAPI<{ attempts: IAttempt[] }>('history'),
  attempt: (roomId: string) =>
    requestAPI<IAttemptDetail>(`history/${enc(roomId)}`),
  profile: () => requestAPI<IProfile>('profile'),
  saveProfile: (profile: Partial<IProfile>) =>
    requestAPI<IProfile>('profile', json('PUT', profile)),
  classView: () => requestAPI<IClassView>('class'),
  openRoom: (id: string) =>
    requestAPI<{ room_id: string; url: string }>(
      `class/rooms/${enc(id)}/open`,
      json('POST', {})
    )
};
