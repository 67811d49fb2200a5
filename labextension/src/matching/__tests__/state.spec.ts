import { IMatchRequest, IQuestionCounts, ITicket } from '../../api';
import {
  IMatchState,
  MatchEvent,
  criteriaLabel,
  elapsedSeconds,
  initialState,
  isSearching,
  lookingFor,
  orderTopics,
  reducer,
  retryRequest,
  widenRequest
} from '../state';

const request: IMatchRequest = {
  difficulty: 'medium',
  topics: ['arrays'],
  language: 'python'
};

function ticket(over: Partial<ITicket> = {}): ITicket {
  return {
    id: 't1',
    state: 'waiting',
    difficulty: 'medium',
    topics: ['arrays'],
    language: 'python',
    relax_level: 0,
    criteria: { difficulties: ['medium'], topics: ['arrays'] },
    created: '2026-11-22T00:00:00+00:00',
    elapsed_s: 0,
    message:
      'Looking for a partner with the same difficulty, topic and language.',
    room: null,
    ...over
  };
}

const relaxed1 = (elapsed: number) =>
  ticket({
    state: 'relaxed',
    relax_level: 1,
    elapsed_s: elapsed,
    criteria: { difficulties: ['medium'], topics: null },
    message:
      'No one else picked arrays at medium yet, so any topic at medium is fine now.'
  });

const relaxed2 = (elapsed: number) =>
  ticket({
    state: 'relaxed',
    relax_level: 2,
    elapsed_s: elapsed,
    criteria: { difficulties: ['easy', 'medium', 'hard'], topics: null },
    message:
      'Still looking: now also matching easy or hard questions, any topic.'
  });

const matched = (elapsed = 3) =>
  ticket({
    state: 'matched',
    elapsed_s: elapsed,
    room: {
      id: 'r1',
      pair_user: 'pair-abc',
      url: '/user/pair-abc/lab',
      question: { id: 'two-sum', title: 'Two Sum' },
      partner: { name: 'bob', display_name: 'Bob B.' }
    }
  });

function run(
  events: MatchEvent[],
  from: IMatchState = initialState
): IMatchState {
  return events.reduce(reducer, from);
}

const submit: MatchEvent = { type: 'submit', request, key: 'k1', now: 1000 };

describe('waiting flow', () => {
  it('starts idle', () => {
    expect(initialState.phase).toBe('idle');
    expect(isSearching(initialState.phase)).toBe(false);
  });

  it('submitting shows what is looked for before the service answers', () => {
    const s = run([submit]);
    expect(s.phase).toBe('submitting');
    expect(isSearching(s.phase)).toBe(true);
    expect(lookingFor(s)).toBe('medium · arrays');
    expect(s.idempotencyKey).toBe('k1');
    expect(s.announcement).toContain('medium · arrays');
  });

  it('waits after the ticket is created and ticks the elapsed time', () => {
    const s = run([
      submit,
      { type: 'submitted', ticket: ticket({ elapsed_s: 0.2 }), now: 1200 }
    ]);
    expect(s.phase).toBe('waiting');
    expect(elapsedSeconds(s, 1200)).toBeCloseTo(0.2);
    expect(elapsedSeconds(s, 6200)).toBeCloseTo(5.2);
    const later = reducer(s, { type: 'tick', now: 3200 });
    expect(later.now).toBe(3200);
    expect(later.phase).toBe('waiting');
  });

  it('ignores a second submit while searching (one ticket at a time)', () => {
    const s = run([submit, { type: 'submit', request, key: 'k2', now: 1100 }]);
    expect(s.idempotencyKey).toBe('k1');
  });

  it('records each widening once, with when it happened and the new criteria', () => {
    const s = run([
      submit,
      { type: 'submitted', ticket: ticket(), now: 1000 },
      { type: 'ticket', ticket: relaxed1(30), now: 31000 },
      { type: 'ticket', ticket: relaxed1(31), now: 32000 }, // repeated: no new entry
      { type: 'ticket', ticket: relaxed2(75), now: 76000 }
    ]);
    expect(s.phase).toBe('waiting');
    expect(s.relaxations.map(r => [r.level, r.atSeconds])).toEqual([
      [1, 30],
      [2, 75]
    ]);
    expect(s.relaxations[0].label).toBe('medium · any topic');
    expect(lookingFor(s)).toBe('easy or medium or hard · any topic');
    expect(s.announcement).toContain('Search widened');
  });

  it('a stale update with a lower relax level does not erase a widening', () => {
    const s = run([
      submit,
      { type: 'submitted', ticket: relaxed1(30), now: 1000 },
      { type: 'ticket', ticket: ticket({ elapsed_s: 29 }), now: 1100 }
    ]);
    expect(s.relaxations).toHaveLength(1);
  });

  it('matched is final: shows the partner and the question, later polls are ignored', () => {
    const s = run([
      submit,
      { type: 'submitted', ticket: ticket(), now: 1000 },
      { type: 'ticket', ticket: matched(), now: 4000 },
      { type: 'ticket', ticket: ticket({ elapsed_s: 2 }), now: 4100 }
    ]);
    expect(s.phase).toBe('matched');
    expect(s.ticket!.room!.partner.display_name).toBe('Bob B.');
    expect(s.announcement).toBe('Matched with Bob B. on "Two Sum".');
    expect(elapsedSeconds(s, 999999)).toBe(3);
  });

  it('an immediate match in the POST answer goes straight to matched', () => {
    const s = run([
      submit,
      { type: 'submitted', ticket: matched(0.1), now: 1100 }
    ]);
    expect(s.phase).toBe('matched');
  });

  it('timed out keeps the service message and the request for retry', () => {
    const s = run([
      submit,
      { type: 'submitted', ticket: ticket(), now: 1000 },
      {
        type: 'ticket',
        ticket: ticket({
          state: 'timed_out',
          elapsed_s: 180,
          message: 'No partner found in 3 min for medium · arrays.'
        }),
        now: 181000
      }
    ]);
    expect(s.phase).toBe('timed_out');
    expect(s.announcement).toContain('No partner found');
    expect(s.request).toEqual(request);
    expect(isSearching(s.phase)).toBe(false);
    // A new search may start from here.
    const again = reducer(s, {
      type: 'submit',
      request,
      key: 'k2',
      now: 200000
    });
    expect(again.phase).toBe('submitting');
    expect(again.relaxations).toEqual([]);
    expect(again.ticket).toBeNull();
  });

  it('cancel: cancelling until the service confirms, then cancelled', () => {
    let s = run([
      submit,
      { type: 'submitted', ticket: ticket(), now: 1000 },
      { type: 'cancel', now: 2000 }
    ]);
    expect(s.phase).toBe('cancelling');
    // A stream update still saying waiting does not undo the cancel in the UI.
    s = reducer(s, {
      type: 'ticket',
      ticket: ticket({ elapsed_s: 1.5 }),
      now: 2100
    });
    expect(s.phase).toBe('cancelling');
    s = reducer(s, {
      type: 'ticket',
      ticket: ticket({ state: 'cancelled' }),
      now: 2200
    });
    expect(s.phase).toBe('cancelled');
    expect(s.announcement).toBe('You left the queue.');
  });

  it('a match that wins the race with cancel is shown as matched', () => {
    const s = run([
      submit,
      { type: 'submitted', ticket: ticket(), now: 1000 },
      { type: 'cancel', now: 2000 },
      {
        type: 'cancel_failed',
        message:
          'This ticket is already matched; end the session in the room instead.',
        ticket: matched(),
        now: 2100
      }
    ]);
    expect(s.phase).toBe('matched');
  });

  it('a failed cancel without a ticket goes back to waiting with the error', () => {
    const s = run([
      submit,
      { type: 'submitted', ticket: ticket(), now: 1000 },
      { type: 'cancel', now: 2000 },
      {
        type: 'cancel_failed',
        message: 'Cannot reach the Jupyter server',
        now: 2100
      }
    ]);
    expect(s.phase).toBe('waiting');
    expect(s.error).toBe('Cannot reach the Jupyter server');
  });

  it('a refused submit is an error with the service message', () => {
    const s = run([
      submit,
      { type: 'submit_failed', message: "Unknown topic(s) 'x'", now: 1100 }
    ]);
    expect(s.phase).toBe('error');
    expect(s.error).toBe("Unknown topic(s) 'x'");
    expect(isSearching(s.phase)).toBe(false);
  });

  it('resumes an open ticket (a 409 on submit, or after a reload)', () => {
    const s = run([
      submit,
      { type: 'resume', ticket: relaxed1(40), now: 5000 }
    ]);
    expect(s.phase).toBe('waiting');
    expect(s.ticket!.id).toBe('t1');
    expect(elapsedSeconds(s, 6000)).toBeCloseTo(41);
    expect(s.request).toEqual(request);
  });

  it('ignores updates about another ticket', () => {
    const s = run([
      submit,
      { type: 'submitted', ticket: ticket(), now: 1000 },
      { type: 'ticket', ticket: { ...matched(), id: 'other' }, now: 2000 }
    ]);
    expect(s.phase).toBe('waiting');
  });

  it('ignores ticket updates when idle, and reset returns to idle', () => {
    expect(run([{ type: 'ticket', ticket: matched(), now: 1 }]).phase).toBe(
      'idle'
    );
    const s = run([
      submit,
      { type: 'submitted', ticket: matched(), now: 2 },
      { type: 'reset' }
    ]);
    expect(s).toEqual(initialState);
  });

  it('remembers which transport delivers the updates', () => {
    expect(
      reducer(initialState, { type: 'transport', transport: 'polling' })
        .transport
    ).toBe('polling');
  });
});

describe('criteria labels', () => {
  it('joins difficulties and topics', () => {
    expect(
      criteriaLabel({ difficulties: ['medium'], topics: ['arrays', 'strings'] })
    ).toBe('medium · arrays, strings');
    expect(
      criteriaLabel({ difficulties: ['easy', 'medium'], topics: null })
    ).toBe('easy or medium · any topic');
  });
});

describe('retry and widen', () => {
  const counts: IQuestionCounts = {
    difficulty: { easy: 3, medium: 2, hard: 5 },
    topic: { arrays: 4, strings: 2, graphs: 0, trees: 1 }
  };

  it('retry asks for the same criteria', () => {
    expect(retryRequest(request)).toEqual(request);
  });

  it('widen first takes every topic that has questions', () => {
    expect(widenRequest(request, counts)).toEqual({
      difficulty: 'medium',
      topics: ['arrays', 'strings', 'trees'],
      language: 'python'
    });
  });

  it('widen then moves to the neighbouring difficulty with more questions', () => {
    const all = { ...request, topics: ['arrays', 'strings', 'trees'] };
    expect(widenRequest(all, counts).difficulty).toBe('hard');
    expect(
      widenRequest({ ...all, difficulty: 'easy' }, counts).difficulty
    ).toBe('medium');
    expect(
      widenRequest({ ...all, difficulty: 'hard' }, counts).difficulty
    ).toBe('medium');
  });

  it('leaves a difficulty without questions for one that has them', () => {
    const sparse: IQuestionCounts = {
      difficulty: { easy: 0, medium: 1, hard: 0 },
      topic: { arrays: 1, 'hash-maps': 1, graphs: 0 }
    };
    expect(
      widenRequest(
        { ...request, difficulty: 'hard', topics: ['graphs'] },
        sparse
      )
    ).toEqual({
      difficulty: 'medium',
      topics: ['arrays', 'hash-maps'],
      language: 'python'
    });
    const onlyEasy: IQuestionCounts = {
      difficulty: { easy: 2, medium: 0, hard: 0 },
      topic: { arrays: 2 }
    };
    expect(
      widenRequest({ ...request, difficulty: 'hard' }, onlyEasy).difficulty
    ).toBe('easy');
  });

  it('without counts, widens to the whole vocabulary', () => {
    const wide = widenRequest(request, null);
    expect(wide.topics).toContain('arrays');
    expect(wide.topics).toContain('dynamic-programming');
    expect(wide.topics.length).toBeGreaterThan(10);
  });
});

describe('topic chips', () => {
  it('lists topics with questions first, then every other topic', () => {
    const topics = orderTopics({
      difficulty: { easy: 0, medium: 1, hard: 0 },
      topic: { arrays: 1, strings: 0, 'hash-maps': 1, graphs: 0 }
    });
    expect(topics.slice(0, 2)).toEqual(['arrays', 'hash-maps']);
    expect(topics).toContain('graphs');
    expect(topics).toContain('dynamic-programming');
    expect(new Set(topics).size).toBe(topics.length);
  });
  it('without counts, the whole vocabulary', () => {
    expect(orderTopics(null)[0]).toBe('arrays');
    expect(orderTopics(null).length).toBeGreaterThan(20);
  });
});
