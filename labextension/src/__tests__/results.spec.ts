import { IRun } from '../api';
import {
  caseRows,
  formatArgs,
  formatKb,
  formatMs,
  formatValue,
  runSummary
} from '../results';

const base: IRun = {
  id: 'run1',
  kind: 'run',
  username: 'alice',
  created: '2026-11-22T00:00:00+00:00',
  passed: 1,
  total: 2,
  verdict: 'failed',
  cases: [],
  complexity: null
};

describe('results of a Run (public tests)', () => {
  const run: IRun = {
    ...base,
    cases: [
      {
        name: 'example 1',
        passed: true,
        reason: null,
        args: [[2, 7, 11, 15], 9],
        expected: [0, 1],
        got: [0, 1],
        stdout: 'hi\n',
        stderr: '',
        error: null,
        wall_ms: 3.25,
        cpu_ms: 2,
        peak_kb: 2048
      },
      {
        name: 'empty',
        passed: false,
        reason: 'wrong answer',
        args: [[], 5],
        expected: [],
        got: null,
        stdout: '',
        stderr: 'warn',
        error: 'Traceback ...',
        wall_ms: 120.4,
        cpu_ms: 100,
        peak_kb: 512
      }
    ]
  };

  it('shows input, expected, got, output, error, time and memory per case', () => {
    const rows = caseRows(run);
    expect(rows.map(r => [r.name, r.status])).toEqual([
      ['example 1', 'pass'],
      ['empty', 'fail']
    ]);
    expect(rows[0].details).toEqual({
      input: '([2,7,11,15], 9)',
      expected: '[0,1]',
      got: '[0,1]',
      stdout: 'hi\n',
      stderr: '',
      error: '',
      time: '3.3 ms',
      memory: '2.0 MB'
    });
    expect(rows[1].reason).toBe('wrong answer');
    expect(rows[1].details!.got).toBe('null');
    expect(rows[1].details!.error).toBe('Traceback ...');
    expect(rows[1].details!.time).toBe('120 ms');
  });

  it('summarises', () => {
    expect(runSummary(run)).toBe('Run · 1/2 passed');
    expect(runSummary({ ...run, passed: 2 })).toBe('Run · all 2 passed');
    expect(
      runSummary({ ...run, verdict: 'error', message: 'SyntaxError' })
    ).toBe('Run · error: SyntaxError');
  });
});

describe('results of a Submit (hidden tests)', () => {
  it('never renders args, expected, got or output, even if present', () => {
    const leaky: IRun = {
      ...base,
      kind: 'submit',
      cases: [
        {
          name: 'large',
          passed: false,
          reason: 'time limit',
          args: ['SECRET-INPUT'],
          expected: 'SECRET-EXPECTED',
          got: 'SECRET-GOT',
          stdout: 'SECRET-OUT',
          error: 'SECRET-ERR'
        }
      ]
    };
    const rows = caseRows(leaky);
    expect(rows).toEqual([
      {
        name: 'large',
        passed: false,
        status: 'fail',
        reason: 'time limit',
        details: null
      }
    ]);
    expect(JSON.stringify(rows)).not.toContain('SECRET');
    expect(runSummary({ ...leaky, passed: 0, total: 1 })).toBe(
      'Submit · 0/1 passed'
    );
  });

  it('names unnamed cases and gives failures a reason', () => {
    const rows = caseRows({
      kind: 'submit',
      cases: [{ name: '', passed: false }]
    });
    expect(rows[0].name).toBe('case 1');
    expect(rows[0].reason).toBe('failed');
  });
});

describe('value formatting', () => {
  it('shortens long values', () => {
    const text = formatValue(
      Array.from({ length: 1000 }, (_, i) => i),
      50
    );
    expect(text.length).toBe(50);
    expect(text.endsWith('…')).toBe(true);
  });
  it('formats strings as JSON so quotes and empties are visible', () => {
    expect(formatValue('')).toBe('""');
    expect(formatArgs(['a', null])).toBe('("a", null)');
    expect(formatArgs(5)).toBe('5');
  });
  it('leaves missing measurements blank', () => {
    expect(formatMs(null)).toBe('');
    expect(formatKb(undefined)).toBe('');
    expect(formatKb(100)).toBe('100 KB');
  });
});
