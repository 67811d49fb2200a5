/**
 * What the results pane shows for a run, as plain data.
 *
 * Run (public tests) shows everything about each case; Submit (hidden tests) shows only the
 * case name, pass/fail and the reason, even if a case happens to carry more: the hidden inputs
 * must never reach the screen.
 */
import { ICaseResult, IRun } from './api';

export interface ICaseDetails {
  input: string;
  expected: string;
  got: string;
  stdout: string;
  stderr: string;
  error: string;
  time: string;
  memory: string;
}

export interface ICaseRow {
  name: string;
  passed: boolean;
  status: string;
  reason: string;
  /** Only for Run (public cases); always null for Submit. */
  details: ICaseDetails | null;
}

const MAX_VALUE = 400;

/** A JSON value for display, shortened to `max` characters. */
export function formatValue(value: unknown, max = MAX_VALUE): string {
  let text: string;
  if (value === undefined) {
    return '';
  }
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) {
    text = String(value);
  }
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

/** A case's arguments as a call: [[2, 7], 9] → "([2,7], 9)". */
export function formatArgs(args: unknown): string {
  if (Array.isArray(args)) {
    return '(' + args.map(a => formatValue(a, 200)).join(', ') + ')';
  }
  return formatValue(args);
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '';
  }
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function formatKb(kb: number | null | undefined): string {
  if (kb === null || kb === undefined || !Number.isFinite(kb)) {
    return '';
  }
  return kb >= 1024 ? `${(kb / 1024).toFixed(1)} MB` : `${Math.round(kb)} KB`;
}

function caseDetails(c: ICaseResult): ICaseDetails {
  return {
    input: 'args' in c ? formatArgs(c.args) : '',
    expected: 'expected' in c ? formatValue(c.expected) : '',
    got: 'got' in c ? formatValue(c.got) : '',
    stdout: c.stdout ?? '',
    stderr: c.stderr ?? '',
    error: c.error ?? '',
    time: formatMs(c.wall_ms),
    memory: formatKb(c.peak_kb)
  };
}

export function caseRows(run: Pick<IRun, 'kind' | 'cases'>): ICaseRow[] {
  const reveal = run.kind === 'run';
  return (run.cases || []).map((c, i) => ({
    name: c.name || `case ${i + 1}`,
    passed: !!c.passed,
    status: c.passed ? 'pass' : 'fail',
    reason: c.passed ? '' : c.reason || 'failed',
    details: reveal ? caseDetails(c) : null
  }));
}

/** "Run · 2/3 passed", "Submit · all 12 passed", "Run · error: …". */
export function runSummary(
  run: Pick<IRun, 'kind' | 'passed' | 'total' | 'verdict' | 'message'>
): string {
  const kind = run.kind === 'submit' ? 'Submit' : 'Run';
  if (run.verdict === 'error') {
    return `${kind} · error${run.message ? ': ' + run.message : ''}`;
  }
  if (run.total > 0 && run.passed === run.total) {
    return `${kind} · all ${run.total} passed`;
  }
  return `${kind} · ${run.passed}/${run.total} passed`;
}
