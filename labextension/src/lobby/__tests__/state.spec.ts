import { IQuestionCounts, IRoom } from '../../api';
import {
  formProblem,
  formReducer,
  initialForm,
  requestOf,
  roomStep,
  showRejoin,
  topicCount,
  topicTitle
} from '../state';

const counts: IQuestionCounts = {
  difficulty: { easy: 2, medium: 1, hard: 0 },
  topic: { arrays: 3, graphs: 0 },
  difficulty_topic: { easy: { arrays: 2 }, medium: { arrays: 1 } }
} as unknown as IQuestionCounts;

function room(over: Partial<IRoom> = {}): IRoom {
  return {
    id: 'r1',
    state: 'starting',
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
    members: [],
    ...over
  };
}

describe('lobby form', () => {
  it('toggles topics on and off and cannot be sent without one', () => {
    let form = initialForm();
    expect(formProblem(form)).toBe('Choose at least one topic.');
    form = formReducer(form, { type: 'toggle_topic', topic: 'arrays' });
    form = formReducer(form, { type: 'toggle_topic', topic: 'graphs' });
    form = formReducer(form, { type: 'toggle_topic', topic: 'arrays' });
    expect(form.topics).toEqual(['graphs']);
    expect(formProblem(form)).toBeNull();
    expect(requestOf(form)).toEqual({
      difficulty: 'medium',
      topics: ['graphs'],
      language: 'python'
    });
  });

  it('takes the profile topics only when the student chose none', () => {
    const chosen = formReducer(initialForm(), {
      type: 'toggle_topic',
      topic: 'trees'
    });
    const withProfile = formReducer(chosen, {
      type: 'profile',
      topics: ['arrays'],
      language: null
    });
    expect(withProfile.topics).toEqual(['trees']);
    expect(withProfile.language).toBe('python');
    const fresh = formReducer(initialForm('new'), {
      type: 'profile',
      topics: ['arrays'],
      language: 'python'
    });
    expect(fresh.topics).toEqual(['arrays']);
    expect(fresh.openIn).toBe('new');
  });

  it('shows a widened request in the form', () => {
    const form = formReducer(initialForm(), {
      type: 'widened',
      request: {
        difficulty: 'easy',
        topics: ['arrays', 'trees'],
        language: 'python'
      }
    });
    expect(form.difficulty).toBe('easy');
    expect(form.topics).toEqual(['arrays', 'trees']);
  });

  it('counts questions per topic at the chosen difficulty', () => {
    expect(topicCount(null, 'easy', 'arrays')).toBeNull();
    expect(topicCount(counts, 'easy', 'arrays')).toBe(2);
    expect(topicCount(counts, 'easy', 'graphs')).toBe(0);
    expect(topicCount(counts, 'hard', 'arrays')).toBe(3); // no matrix row: all difficulties
    expect(topicTitle(1, 'easy', 'arrays')).toBe('1 easy question on arrays');
    expect(topicTitle(2, 'easy', 'arrays')).toBe('2 easy questions on arrays');
    expect(topicTitle(null, 'easy', 'arrays')).toBe('arrays');
  });

  it('offers Rejoin only when no search or match is on screen', () => {
    expect(showRejoin(room(), 'idle')).toBe(true);
    expect(showRejoin(room(), 'waiting')).toBe(false);
    expect(showRejoin(room(), 'matched')).toBe(false);
    expect(showRejoin(null, 'idle')).toBe(false);
  });
});

describe('opening a matched room', () => {
  it('waits while the room starts and opens it once active', () => {
    expect(roomStep(room(), '/fallback', 0)).toEqual({
      kind: 'wait',
      status: 'Preparing your room…'
    });
    expect(roomStep(room({ state: 'active' }), '/fallback', 0)).toEqual({
      kind: 'open',
      url: '/user/pair-1/lab',
      status: 'Opening your room…'
    });
    expect(
      roomStep(room({ state: 'active', url: '' }), '/fallback', 0)
    ).toMatchObject({
      url: '/fallback'
    });
  });

  it('says why a room could not start', () => {
    expect(
      roomStep(room({ state: 'failed', message: 'No capacity.' }), '/f', 0)
    ).toEqual({ kind: 'failed', status: 'No capacity.' });
    expect(roomStep(room({ state: 'ended' }), '/f', 0).status).toBe(
      'The room could not start (ended).'
    );
  });

  it('keeps trying through failures, then lets the student open it', () => {
    expect(roomStep(null, '/f', 5000).kind).toBe('wait');
    expect(roomStep(null, '/f', 120001)).toEqual({
      kind: 'give_up',
      status: 'The room is taking long to start; use "Open room".'
    });
  });
});
