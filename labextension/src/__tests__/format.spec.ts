import { IMe } from '../api';
import {
  formatClock,
  formatDuration,
  historyLink,
  hubRoot,
  newKey,
  roleLabel
} from '../format';

const me = (over: Partial<IMe>): IMe => ({
  name: 'alice',
  groups: [],
  roles: ['user'],
  is_instructor: false,
  is_admin: false,
  ...over
});

describe('roleLabel', () => {
  it('calls a plain user a student', () => {
    expect(roleLabel(me({}))).toBe('student');
  });
  it('names instructors', () => {
    expect(roleLabel(me({ is_instructor: true }))).toBe('instructor');
  });
  it('puts admin above instructor', () => {
    expect(roleLabel(me({ is_instructor: true, is_admin: true }))).toBe(
      'admin'
    );
  });
});

describe('formatClock', () => {
  it('reads like a stopwatch', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(7.9)).toBe('0:07');
    expect(formatClock(125)).toBe('2:05');
    expect(formatClock(3723)).toBe('1:02:03');
  });
  it('never shows negative or NaN time', () => {
    expect(formatClock(-5)).toBe('0:00');
    expect(formatClock(NaN)).toBe('0:00');
  });
});

describe('formatDuration', () => {
  it('uses seconds, minutes, hours', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(12 * 60 + 10)).toBe('12 min');
    expect(formatDuration(65 * 60)).toBe('1 h 05 min');
  });
  it('shows a dash when unknown', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(undefined)).toBe('—');
  });
});

describe('history links', () => {
  it('finds the hub root from the hub prefix', () => {
    expect(hubRoot('/hub/')).toBe('/');
    expect(hubRoot('/jh/hub/')).toBe('/jh/');
    expect(hubRoot('')).toBe('/');
  });
  it("points at the student's own lab with the room to open", () => {
    expect(historyLink('/hub/', 'alice', 'r1')).toBe(
      '/user/alice/lab?peerprep-history=r1'
    );
    expect(historyLink('/jh/hub/', 'a b', 'r/2')).toBe(
      '/jh/user/a%20b/lab?peerprep-history=r%2F2'
    );
  });
  it('falls back to the hub home without a student name', () => {
    expect(historyLink('/hub/', '', 'r1')).toBe('/hub/home');
  });
});

describe('newKey', () => {
  it('differs on every press', () => {
    const keys = new Set([newKey(), newKey(), newKey()]);
    expect(keys.size).toBe(3);
    for (const k of keys) {
      expect(k.length).toBeGreaterThan(0);
      expect(k.length).toBeLessThanOrEqual(100);
    }
  });
});
