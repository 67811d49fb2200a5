/**
 * The waiting flow of the lobby as a pure state machine: events in, UI state out.
 *
 * Events come from the user (submit, cancel), from the service (the POST answer, ticket updates
 * from the event stream or from polling, in any order and possibly repeated or stale) and from
 * a clock (tick). Terminal states (matched, timed out, cancelled) are sticky: a late "waiting"
 * from a slow poll never takes a matched student back to the queue.
 */
import {
  DIFFICULTIES,
  Difficulty,
  IMatchRequest,
  IQuestionCounts,
  ITicket,
  TOPICS
} from '../api';

export type Phase =
  | 'idle'
  | 'submitting'
  | 'waiting'
  | 'cancelling'
  | 'matched'
  | 'timed_out'
  | 'cancelled'
  | 'error';

export type Transport = 'stream' | 'polling' | null;

/** One widening of the search, as the student is told about it. */
export interface IRelaxation {
  level: number;
  /** Seconds into the wait when it was first seen. */
  atSeconds: number;
  message: string;
  label: string;
}

export interface IMatchState {
  phase: Phase;
  request: IMatchRequest | null;
  idempotencyKey: string | null;
  ticket: ITicket | null;
  /** The service's elapsed_s at the last update and the client clock (ms) when it arrived. */
  elapsedAt: { seconds: number; clientMs: number } | null;
  /** Client clock (ms) when the student pressed "Find a partner". */
  startedMs: number | null;
  now: number;
  relaxations: IRelaxation[];
  transport: Transport;
  error: string | null;
  /** Text for the aria-live region: changes only when something worth announcing happens. */
  announcement: string;
}

export type MatchEvent =
  | { type: 'submit'; request: IMatchRequest; key: string; now: number }
  | { type: 'submitted'; ticket: ITicket; now: number }
  | { type: 'submit_failed'; message: string; now: number }
  | { type: 'resume'; ticket: ITicket; now: number }
  | { type: 'ticket'; ticket: ITicket; now: number }
  | { type: 'cancel'; now: number }
  | {
      type: 'cancel_failed';
      message: string;
      ticket?: ITicket | null;
      now: number;
    }
  | { type: 'transport'; transport: Transport }
  | { type: 'tick'; now: number }
  | { type: 'reset' };

export const initialState: IMatchState = {
  phase: 'idle',
  request: null,
  idempotencyKey: null,
  ticket: null,
  elapsedAt: null,
  startedMs: null,
  now: 0,
  relaxations: [],
  transport: null,
  error: null,
  announcement: ''
};

const TERMINAL: Phase[] = ['matched', 'timed_out', 'cancelled'];

export function isTerminal(phase: Phase): boolean {
  return TERMINAL.includes(phase);
}

/** Whether a ticket is (or is being) in the queue: show the waiting view and Cancel. */
export function isSearching(phase: Phase): boolean {
  return (
    phase === 'submitting' || phase === 'waiting' || phase === 'cancelling'
  );
}

/** "medium · arrays", "medium or hard · any topic". */
export function criteriaLabel(criteria: {
  difficulties: string[];
  topics: string[] | null;
}): string {
  const difficulties = criteria.difficulties.length
    ? criteria.difficulties.join(' or ')
    : 'any difficulty';
  const topics =
    criteria.topics && criteria.topics.length
      ? criteria.topics.join(', ')
      : 'any topic';
  return `${difficulties} · ${topics}`;
}

/** What the ticket is looking for now (its relaxed criteria), or the request before a ticket. */
export function lookingFor(state: IMatchState): string {
  if (state.ticket) {
    return criteriaLabel(state.ticket.criteria);
  }
  if (state.request) {
    return criteriaLabel({
      difficulties: [state.request.difficulty],
      topics: state.request.topics
    });
  }
  return '';
}

/** Seconds waited so far, ticking between service updates; frozen once the ticket is final. */
export function elapsedSeconds(state: IMatchState, now: number): number {
  if (state.ticket && isTerminal(state.phase)) {
    return Math.max(0, state.ticket.elapsed_s);
  }
  if (state.elapsedAt) {
    return Math.max(
      0,
      state.elapsedAt.seconds + (now - state.elapsedAt.clientMs) / 1000
    );
  }
  if (state.startedMs !== null) {
    return Math.max(0, (now - state.startedMs) / 1000);
  }
  return 0;
}

function phaseOf(ticket: ITicket): Phase {
  switch (ticket.state) {
    case 'matched':
      return 'matched';
    case 'timed_out':
      return 'timed_out';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'waiting';
  }
}

function announce(phase: Phase, ticket: ITicket): string {
  switch (phase) {
    case 'matched': {
      const room = ticket.room;
      if (!room) {
        return 'Matched! Opening your room…';
      }
      const partner = room.partner.display_name || room.partner.name;
      return `Matched with ${partner} on "${room.question.title}".`;
    }
    case 'timed_out':
      return ticket.message || 'No partner found this time.';
    case 'cancelled':
      return 'You left the queue.';
    default:
      return `Looking for a partner: ${criteriaLabel(ticket.criteria)}.`;
  }
}

function applyTicket(
  state: IMatchState,
  ticket: ITicket,
  now: number
): IMatchState {
  if (state.ticket && state.ticket.id !== ticket.id) {
    return state; // an update about some other ticket: not ours any more
  }
  if (isTerminal(state.phase)) {
    return state; // sticky
  }
  let phase = phaseOf(ticket);
  if (phase === 'waiting' && state.phase === 'cancelling') {
    phase = 'cancelling';
  }
  const known = Math.max(
    state.ticket ? state.ticket.relax_level : 0,
    ...state.relaxations.map(r => r.level)
  );
  let relaxations = state.relaxations;
  let announcement = state.announcement;
  if (ticket.relax_level > known && !isTerminal(phase)) {
    const label = criteriaLabel(ticket.criteria);
    relaxations = [
      ...relaxations,
      {
        level: ticket.relax_level,
        atSeconds: Math.max(0, ticket.elapsed_s),
        message: ticket.message,
        label
      }
    ];
    announcement = `Search widened: now looking for ${label}.`;
  }
  if (phase !== state.phase && phase !== 'cancelling') {
    announcement = announce(phase, ticket);
  }
  return {
    ...state,
    phase,
    ticket,
    request: state.request ?? {
      difficulty: ticket.difficulty,
      topics: ticket.topics,
      language: ticket.language
    },
    elapsedAt: { seconds: ticket.elapsed_s, clientMs: now },
    now,
    relaxations,
    error: null,
    announcement
  };
}

export function reducer(state: IMatchState, event: MatchEvent): IMatchState {
  switch (event.type) {
    case 'submit':
      if (isSearching(state.phase)) {
        return state; // one search at a time
      }
      return {
        ...initialState,
        phase: 'submitting',
        request: event.request,
        idempotencyKey: event.key,
        startedMs: event.now,
        now: event.now,
        announcement: `Looking for a partner: ${criteriaLabel({
          difficulties: [event.request.difficulty],
          topics: event.request.topics
        })}.`
      };
    case 'submitted':
      if (state.phase !== 'submitting' && state.phase !== 'cancelling') {
        return state;
      }
      return applyTicket(state, event.ticket, event.now);
    case 'submit_failed':
      if (state.phase !== 'submitting') {
        return state;
      }
      return {
        ...state,
        phase: 'error',
        error: event.message,
        announcement: event.message
      };
    case 'resume':
      // A ticket found open (a 409 on submit, or a reload): follow it from now on.
      if (state.ticket && state.ticket.id === event.ticket.id) {
        return applyTicket(state, event.ticket, event.now);
      }
      return applyTicket(
        {
          ...initialState,
          phase: 'waiting',
          startedMs: event.now,
          now: event.now,
          request: {
            difficulty: event.ticket.difficulty,
            topics: event.ticket.topics,
            language: event.ticket.language
          }
        },
        event.ticket,
        event.now
      );
    case 'ticket':
      if (!state.ticket && state.phase !== 'submitting') {
        return state;
      }
      return applyTicket(state, event.ticket, event.now);
    case 'cancel':
      if (state.phase !== 'waiting' && state.phase !== 'submitting') {
        return state;
      }
      return {
        ...state,
        phase: 'cancelling',
        now: event.now,
        announcement: 'Cancelling…'
      };
    case 'cancel_failed': {
      if (state.phase !== 'cancelling') {
        return state;
      }
      // The service refused (e.g. 409: matched meanwhile); its ticket tells what happened.
      const back: IMatchState = {
        ...state,
        phase: 'waiting',
        error: event.message,
        announcement: event.message
      };
      return event.ticket ? applyTicket(back, event.ticket, event.now) : back;
    }
    case 'transport':
      return { ...state, transport: event.transport };
    case 'tick':
      return { ...state, now: event.now };
    case 'reset':
      return { ...initialState };
    default:
      return state;
  }
}

/** The request for "Try again": the same criteria. */
export function retryRequest(request: IMatchRequest): IMatchRequest {
  return { ...request, topics: [...request.topics] };
}

function neighbours(
  difficulty: Difficulty,
  difficulties: Difficulty[]
): Difficulty[] {
  const i = difficulties.indexOf(difficulty);
  return difficulties.filter((_, j) => Math.abs(i - j) === 1);
}

/**
 * The request for "Widen search": every topic that has questions (at any difficulty), and the
 * neighbouring difficulty with the most questions when the request already had every topic or
 * its own difficulty has no questions at all (ties go to the easier one; with no neighbour
 * holding questions, the difficulty with the most). `topics` and `difficulties` are the
 * service's vocabulary (../vocabulary.ts).
 */
export function widenRequest(
  request: IMatchRequest,
  counts: IQuestionCounts | null,
  topics: string[] = TOPICS,
  difficulties: Difficulty[] = DIFFICULTIES
): IMatchRequest {
  const available = counts
    ? Object.keys(counts.topic).filter(t => (counts.topic[t] ?? 0) > 0)
    : [...topics];
  const allTopics = available.length ? available : [...topics];
  const hasAll = allTopics.every(t => request.topics.includes(t));
  const count = (d: Difficulty) => (counts ? (counts.difficulty[d] ?? 0) : 0);
  const empty = counts !== null && count(request.difficulty) === 0;
  if (!hasAll && !empty) {
    return { ...request, topics: allTopics };
  }
  const most = (options: Difficulty[]) =>
    options.reduce(
      (best, d) => (count(d) > count(best) ? d : best),
      options[0]
    );
  let difficulty = most(neighbours(request.difficulty, difficulties));
  if (empty && count(difficulty) === 0) {
    const anywhere = most(difficulties);
    difficulty = count(anywhere) > 0 ? anywhere : difficulty;
  }
  return { ...request, difficulty, topics: allTopics };
}

/**
 * Every topic for the lobby's chips: those with questions first (vocabulary order), then the
 * rest (a student may still pick them; the search widens to any topic after a while).
 */
export function orderTopics(
  counts: IQuestionCounts | null,
  topics: string[] = TOPICS
): string[] {
  const all = counts ? Object.keys(counts.topic) : [...topics];
  for (const t of topics) {
    if (!all.includes(t)) {
      all.push(t);
    }
  }
  if (!counts) {
    return all;
  }
  const has = (t: string) => (counts.topic[t] ?? 0) > 0;
  return [...all.filter(has), ...all.filter(t => !has(t))];
}
