import { Replayer, applyStep, clock } from '../record';

// A stream recorded by tests/unit/test_record_authorship.py's Recorder (two students, concurrent
// typing in one cell, 450 more keys), replayed by the service; `moments` holds the cell
// sources the service's own replay gives at three moments.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const fixture = require('./fixtures/record.json');

describe('Replayer', () => {
  const replayer = new Replayer(fixture.replay, 50);

  it('shows the notebook at three moments exactly as the service replays it', () => {
    const moments = Object.entries(fixture.moments) as [string, string[]][];
    expect(moments).toHaveLength(3);
    for (const [ms, sources] of moments) {
      expect(replayer.cellsAt(Number(ms)).map(c => c.source)).toEqual(sources);
    }
  });

  it('shows nothing before the first step and everything after the last', () => {
    expect(replayer.cellsAt(0)).toEqual([]);
    const last = fixture.replay.steps[fixture.replay.steps.length - 1][0];
    expect(replayer.cellsAt(last + 1)).toEqual(replayer.cellsAt(last));
  });

  it('names who made the last change', () => {
    const [ms, user] = fixture.replay.steps[3];
    expect(replayer.authorAt(ms)).toBe(fixture.replay.users[user]);
  });
});

describe('applyStep', () => {
  it('inserts, edits and deletes cells', () => {
    let cells = applyStep([], [0, 0, -1, { insert: [['code', 'ab']], at: 0 }]);
    cells = applyStep(cells, [
      1,
      0,
      0,
      [{ retain: 1 }, { insert: 'X' }, { delete: 1 }]
    ]);
    expect(cells).toEqual([{ type: 'code', source: 'aX' }]);
    expect(applyStep(cells, [2, 0, -1, { delete: 1, at: 0 }])).toEqual([]);
  });

  it('formats a moment as minutes and seconds since the start', () => {
    expect(clock(125_000, 0)).toBe('2:05');
  });
});
