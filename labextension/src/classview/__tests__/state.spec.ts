import { IClassView } from '../../api';
import {
  IClassState,
  classReducer,
  complexityLabel,
  durationLabel,
  initialClassState,
  passRateLabel,
  sortedQuestions,
  sortedStudents
} from '../state';
import { ClassWatcher } from '../watch';

function view(over: Partial<IClassView> = {}): IClassView {
  return {
    courses: ['course-cs101'],
    questions: [
      {
        id: 'two-sum',
        title: 'Two Sum',
        difficulty: 'easy',
        attempts: 3,
        passed: 2,
        pass_rate: 0.667,
        median_seconds_to_pass: 210,
        complexity: { 'O(n)': 1, 'O(n^2)': 1 }
      },
      {
        id: 'parens',
        title: 'Valid Parentheses',
        difficulty: 'easy',
        attempts: 1,
        passed: 0,
        pass_rate: 0,
        median_seconds_to_pass: null,
        complexity: { 'not measured': 1 }
      },
      {
        id: 'anagram',
        title: 'Anagram',
        difficulty: 'easy',
        attempts: 5,
        passed: 5,
        pass_rate: 1,
        median_seconds_to_pass: 60,
        complexity: {}
      }
    ],
    students: [
      {
        name: 'bob',
        display_name: 'Bob',
        email: '',
        attempts: 2,
        passed: 1,
        submits: 3,
        rating: 1010,
        questions: []
      },
      {
        name: 'alice',
        display_name: 'Alice',
        email: 'a@x',
        attempts: 4,
        passed: 2,
        submits: 4,
        rating: 1030,
        questions: []
      }
    ],
    live: [
      {
        id: 'r1',
        question_id: 'two-sum',
        title: 'Two Sum',
        difficulty: 'easy',
        members: ['alice', 'bob'],
        started: null,
        observers: []
      }
    ],
    ...over
  };
}

const run = (events: Parameters<typeof classReducer>[1][]): IClassState =>
  events.reduce(classReducer, initialClassState);

describe('classReducer', () => {
  it('shows the first view and announces its size', () => {
    const s = run([{ type: 'loaded', view: view(), now: 5 }]);
    expect(s.phase).toBe('ready');
    expect(s.updatedMs).toBe(5);
    expect(s.announcement).toBe('Class view loaded: 2 students, 1 live rooms.');
  });

  it('keeps the last figures when a refresh fails, and says so', () => {
    const s = run([
      { type: 'loaded', view: view(), now: 1 },
      { type: 'load_failed', message: 'hub down' }
    ]);
    expect(s.phase).toBe('ready');
    expect(s.view?.students).toHaveLength(2);
    expect(s.stale).toBe('hub down');
    const again = classReducer(s, { type: 'loaded', view: view(), now: 2 });
    expect(again.stale).toBeNull();
  });

  it('is an error when the first load fails', () => {
    const s = run([{ type: 'load_failed', message: 'Only instructors…' }]);
    expect(s.phase).toBe('error');
    expect(s.error).toBe('Only instructors…');
  });

  it('opens one room at a time and remembers its URL while it is live', () => {
    let s = run([
      { type: 'loaded', view: view(), now: 1 },
      { type: 'open', roomId: 'r1' }
    ]);
    expect(s.opening).toBe('r1');
    // A second click while the first open is under way changes nothing.
    expect(classReducer(s, { type: 'open', roomId: 'r2' })).toBe(s);
    s = classReducer(s, { type: 'opened', roomId: 'r1', url: '/user/p/lab' });
    expect(s.opening).toBeNull();
    expect(s.opened).toEqual({ r1: '/user/p/lab' });
    // The room ends: its link goes with it, and the change is announced.
    s = classReducer(s, { type: 'loaded', view: view({ live: [] }), now: 2 });
    expect(s.opened).toEqual({});
    expect(s.announcement).toBe('0 live rooms now.');
  });

  it('shows why a room could not be opened, next to that room', () => {
    const s = run([
      { type: 'loaded', view: view(), now: 1 },
      { type: 'open', roomId: 'r1' },
      { type: 'open_failed', roomId: 'r1', message: 'Room r1 is ended' }
    ]);
    expect(s.roomErrors).toEqual({ r1: 'Room r1 is ended' });
    expect(s.opening).toBeNull();
    // Trying again clears the old error.
    expect(classReducer(s, { type: 'open', roomId: 'r1' }).roomErrors).toEqual(
      {}
    );
  });

  it('tracks an export', () => {
    const s = run([
      { type: 'loaded', view: view(), now: 1 },
      { type: 'export' }
    ]);
    expect(s.exporting).toBe(true);
    expect(classReducer(s, { type: 'exported', students: 2 })).toMatchObject({
      exporting: false,
      announcement: 'Exported 2 students as CSV.'
    });
    expect(
      classReducer(s, { type: 'export_failed', message: 'no' })
    ).toMatchObject({ exporting: false, error: 'no' });
  });
});

describe('sorting', () => {
  const ready = run([{ type: 'loaded', view: view(), now: 1 }]);

  it('sorts questions by title by default', () => {
    expect(sortedQuestions(ready).map(q => q.id)).toEqual([
      'anagram',
      'two-sum',
      'parens'
    ]);
  });

  it('puts the highest pass rate first and the quickest median first', () => {
    const byRate = classReducer(ready, {
      type: 'sort_questions',
      by: 'pass_rate'
    });
    expect(sortedQuestions(byRate).map(q => q.id)).toEqual([
      'anagram',
      'two-sum',
      'parens'
    ]);
    const byTime = classReducer(ready, {
      type: 'sort_questions',
      by: 'median'
    });
    // Nobody passed "parens": it goes last.
    expect(sortedQuestions(byTime).map(q => q.id)).toEqual([
      'anagram',
      'two-sum',
      'parens'
    ]);
  });

  it('sorts students by name or by a figure', () => {
    expect(sortedStudents(ready).map(s => s.name)).toEqual(['alice', 'bob']);
    const byRating = classReducer(ready, {
      type: 'sort_students',
      by: 'rating'
    });
    expect(sortedStudents(byRating).map(s => s.name)).toEqual(['alice', 'bob']);
  });
});

describe('labels', () => {
  it('formats rates, durations and complexity', () => {
    expect(passRateLabel(0.667)).toBe('67 %');
    expect(passRateLabel(null)).toBe('–');
    expect(durationLabel(45)).toBe('45 s');
    expect(durationLabel(210)).toBe('3 min 30 s');
    expect(durationLabel(3720)).toBe('1 h 2 min');
    expect(durationLabel(null)).toBe('–');
    expect(complexityLabel({ 'O(n^2)': 1, 'O(n)': 2 })).toBe(
      'O(n) ×2, O(n^2) ×1'
    );
    expect(complexityLabel({})).toBe('–');
  });
});

describe('ClassWatcher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('polls, reports a failure once per streak, and stops', async () => {
    const answers: (IClassView | Error)[] = [
      view(),
      new Error('down'),
      new Error('down'),
      view({ live: [] })
    ];
    const views: IClassView[] = [];
    const errors: string[] = [];
    const watcher = new ClassWatcher(
      { onView: v => views.push(v), onError: m => errors.push(m) },
      1000,
      async () => {
        const next = answers.shift() ?? view();
        if (next instanceof Error) {
          throw next;
        }
        return next;
      }
    );
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        await Promise.resolve();
      }
    };
    watcher.start(); // 1st answer: a view
    await settle();
    for (let i = 0; i < 3; i++) {
      // 2nd and 3rd answers fail, the 4th is a view again
      jest.advanceTimersByTime(1000);
      await settle();
    }
    expect(views).toHaveLength(2);
    expect(views[1].live).toEqual([]);
    expect(errors).toEqual(['down']);
    watcher.stop();
    jest.advanceTimersByTime(5000);
    await Promise.resolve();
    expect(views).toHaveLength(2);
  });
});
