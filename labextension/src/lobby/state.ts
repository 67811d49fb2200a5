/**
 * The lobby's form and room-opening logic as pure functions: what the student chose
 * (difficulty, topics, language, where to open the room), what the counts say about a topic,
 * and what to do with each answer while a matched room starts. The waiting flow itself is
 * ../matching/state.ts; the timers that drive the room opening are ./watch.ts.
 */
import { Difficulty, IMatchRequest, IQuestionCounts, IRoom } from '../api';
import { Phase, isSearching } from '../matching/state';

export type OpenIn = 'same' | 'new';

export interface ILobbyForm {
  difficulty: Difficulty;
  topics: string[];
  language: string;
  openIn: OpenIn;
}

export type FormEvent =
  | { type: 'difficulty'; difficulty: Difficulty }
  | { type: 'toggle_topic'; topic: string }
  | { type: 'language'; language: string }
  | { type: 'open_in'; openIn: OpenIn }
  /** The student's profile: preferred topics (only if none chosen yet) and language. */
  | { type: 'profile'; topics: string[] | null; language: string | null }
  /** "Widen search" chose a wider request: the form shows it. */
  | { type: 'widened'; request: IMatchRequest };

export function initialForm(openIn: OpenIn = 'same'): ILobbyForm {
  return { difficulty: 'medium', topics: [], language: 'python', openIn };
}

export function formReducer(form: ILobbyForm, event: FormEvent): ILobbyForm {
  switch (event.type) {
    case 'difficulty':
      return { ...form, difficulty: event.difficulty };
    case 'toggle_topic':
      return {
        ...form,
        topics: form.topics.includes(event.topic)
          ? form.topics.filter(t => t !== event.topic)
          : [...form.topics, event.topic]
      };
    case 'language':
      return { ...form, language: event.language };
    case 'open_in':
      return { ...form, openIn: event.openIn };
    case 'profile':
      return {
        ...form,
        topics:
          !form.topics.length && event.topics && event.topics.length
            ? [...event.topics]
            : form.topics,
        language: event.language || form.language
      };
    case 'widened':
      return {
        ...form,
        difficulty: event.request.difficulty,
        topics: [...event.request.topics]
      };
    default:
      return form;
  }
}

/** The request "Find a partner" sends. */
export function requestOf(form: ILobbyForm): IMatchRequest {
  return {
    difficulty: form.difficulty,
    topics: [...form.topics],
    language: form.language
  };
}

/** Why the form cannot be sent, or null when it can. */
export function formProblem(form: ILobbyForm): string | null {
  return form.topics.length ? null : 'Choose at least one topic.';
}

/** Questions on `topic` at `difficulty` (all difficulties if the service has no matrix). */
export function topicCount(
  counts: IQuestionCounts | null,
  difficulty: Difficulty,
  topic: string
): number | null {
  if (!counts) {
    return null;
  }
  const matrix = counts.difficulty_topic?.[difficulty];
  return matrix ? (matrix[topic] ?? 0) : (counts.topic[topic] ?? 0);
}

/** The tooltip of a topic chip. */
export function topicTitle(
  n: number | null,
  difficulty: Difficulty,
  topic: string
): string {
  return n === null
    ? topic
    : `${n} ${difficulty} question${n === 1 ? '' : 's'} on ${topic}`;
}

/** Show "Rejoin room" for a session found open, unless a search or a match is on screen. */
export function showRejoin(activeRoom: IRoom | null, phase: Phase): boolean {
  return !!activeRoom && !isSearching(phase) && phase !== 'matched';
}

/** What to do next while a matched room starts, from one answer (or failure) of the service. */
export type RoomStep =
  | { kind: 'open'; url: string; status: string }
  | { kind: 'failed'; status: string }
  | { kind: 'wait'; status: string }
  | { kind: 'give_up'; status: string };

export const ROOM_START_LIMIT_MS = 120000;

export function roomStep(
  answer: IRoom | null,
  fallbackUrl: string,
  waitedMs: number,
  limitMs: number = ROOM_START_LIMIT_MS
): RoomStep {
  if (!answer) {
    // The service could not be asked: keep trying for a while, then let the student decide.
    return waitedMs > limitMs
      ? {
          kind: 'give_up',
          status: 'The room is taking long to start; use "Open room".'
        }
      : { kind: 'wait', status: 'Preparing your room…' };
  }
  if (answer.state === 'active') {
    return {
      kind: 'open',
      url: answer.url || fallbackUrl,
      status: 'Opening your room…'
    };
  }
  if (answer.state === 'failed' || answer.state === 'ended') {
    return {
      kind: 'failed',
      status: answer.message || `The room could not start (${answer.state}).`
    };
  }
  return { kind: 'wait', status: 'Preparing your room…' };
}
