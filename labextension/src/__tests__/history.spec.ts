import { IAttempt } from '../api';
import {
  attemptTopics,
  endLabel,
  endedAbnormally,
  exportFilename,
  filterAttempts,
  notebookBlocks,
  notebookText,
  partnerLabel,
  resultLabel
} from '../history';
import { solutionSource, stripMagics } from '../source';

const attempt = (
  id: string,
  difficulty: string,
  topics: string[]
): IAttempt => ({
  room_id: id,
  question: { id: `q-${id}`, title: `Q ${id}`, difficulty, topics },
  partner: { name: 'bob', display_name: 'Bob' },
  started: '2026-11-21T10:00:00+00:00',
  ended: '2026-11-21T10:30:00+00:00',
  duration_s: 1800,
  end_reason: 'ended',
  result: null
});

const attempts = [
  attempt('a', 'medium', ['arrays', 'hash-maps']),
  attempt('b', 'easy', ['strings']),
  attempt('c', 'medium', ['strings', 'arrays'])
];

describe('history filtering', () => {
  it('filters by difficulty, topic, both, or neither, keeping order', () => {
    const ids = (f: { topic: string; difficulty: string }) =>
      filterAttempts(attempts, f).map(a => a.room_id);
    expect(ids({ topic: '', difficulty: '' })).toEqual(['a', 'b', 'c']);
    expect(ids({ topic: '', difficulty: 'medium' })).toEqual(['a', 'c']);
    expect(ids({ topic: 'strings', difficulty: '' })).toEqual(['b', 'c']);
    expect(ids({ topic: 'strings', difficulty: 'medium' })).toEqual(['c']);
    expect(ids({ topic: 'graphs', difficulty: '' })).toEqual([]);
  });
  it('offers the topics that occur', () => {
    expect(attemptTopics(attempts)).toEqual(['arrays', 'hash-maps', 'strings']);
  });
  it('labels results', () => {
    expect(resultLabel(null)).toBe('no submit');
    expect(
      resultLabel({ passed: 3, total: 4, verdict: 'failed', complexity: null })
    ).toBe('3/4 passed');
  });
});

describe('final notebook', () => {
  const nb = {
    cells: [
      {
        cell_type: 'markdown',
        source: ['# Two', ' Sum'],
        metadata: { tags: ['prompt'] }
      },
      {
        cell_type: 'code',
        source: 'def two_sum(nums, target):\n    return []',
        metadata: {}
      },
      {
        cell_type: 'raw',
        source: '[{"name": "x"}]',
        metadata: { tags: ['public-tests'] }
      },
      {
        cell_type: 'code',
        source: '%timeit two_sum([], 0)\n!ls',
        metadata: {}
      },
      {
        cell_type: 'code',
        source: 'check()',
        metadata: { tags: ['public-tests'] }
      }
    ]
  };

  it('becomes read-only text blocks', () => {
    const blocks = notebookBlocks(nb);
    expect(blocks.map(b => b.kind)).toEqual([
      'markdown',
      'code',
      'raw',
      'code',
      'code'
    ]);
    expect(blocks[0].source).toBe('# Two Sum');
    expect(blocks[0].tags).toEqual(['prompt']);
    expect(notebookBlocks(null)).toEqual([]);
  });

  it('exports as nbformat 4 JSON with a dated file name', () => {
    const text = notebookText(nb);
    const parsed = JSON.parse(text);
    expect(parsed.nbformat).toBe(4);
    expect(parsed.cells).toHaveLength(5);
    expect(exportFilename(attempts[0])).toBe('q-a-2026-11-21.ipynb');
  });

  it('the solution source joins code cells in order, skipping public-tests cells', () => {
    const source = solutionSource(nb.cells);
    expect(source).toBe(
      'def two_sum(nums, target):\n    return []\n\n# %timeit two_sum([], 0)\n# !ls\n'
    );
    expect(source).not.toContain('check()');
  });

  it('comments out notebook-only lines but keeps indentation', () => {
    expect(stripMagics('  %time x\ny = 1')).toBe('  # %time x\ny = 1');
  });
});

describe('partner label', () => {
  it('prefers the display name and survives a missing partner', () => {
    expect(partnerLabel(attempts[0])).toBe('Bob');
    expect(partnerLabel({ partner: { name: 'bob', display_name: '' } })).toBe(
      'bob'
    );
    expect(partnerLabel({ partner: null })).toBe('no partner');
  });
});

describe('how a session ended', () => {
  it('names the end reason and flags a lost server', () => {
    const normal = { end_reason: 'ended by a student', end_message: '' };
    const lost = {
      end_reason: 'server lost',
      end_message: "The room's server stopped unexpectedly; ..."
    };
    expect(endLabel(normal)).toBe('ended by a student');
    expect(endedAbnormally(normal)).toBe(false);
    expect(endLabel(lost)).toBe('server lost');
    expect(endedAbnormally(lost)).toBe(true);
    expect(endLabel({ end_reason: null })).toBe('ended');
  });
});
