import {
  chartGeometry,
  complexityLabel,
  formatSeconds,
  spaceLabel
} from '../complexity';

describe('complexity chart scaling', () => {
  const points = [
    { n: 4000, seconds: 0.004 },
    { n: 1000, seconds: 0.001 },
    { n: 8000, seconds: 0.008 },
    { n: 2000, seconds: 0.002 }
  ];

  it('puts the largest n at the right edge and the slowest time at the top', () => {
    const g = chartGeometry(points, { width: 200, height: 100, padding: 20 })!;
    expect(g.points.map(p => p.n)).toEqual([1000, 2000, 4000, 8000]);
    const last = g.points[3];
    expect(last.x).toBe(g.right);
    expect(last.y).toBe(g.top);
    expect(g.maxN).toBe(8000);
    expect(g.maxSeconds).toBe(0.008);
  });

  it('is linear: a linear algorithm plots on a straight line through the origin', () => {
    const g = chartGeometry(points, { width: 200, height: 100, padding: 20 })!;
    const slope = (p: { x: number; y: number }) =>
      (g.bottom - p.y) / (p.x - g.left);
    const slopes = g.points.map(slope);
    for (const s of slopes) {
      expect(s).toBeCloseTo(slopes[0], 1);
    }
  });

  it('keeps every point inside the box', () => {
    const g = chartGeometry(points)!;
    for (const p of g.points) {
      expect(p.x).toBeGreaterThanOrEqual(g.left);
      expect(p.x).toBeLessThanOrEqual(g.right);
      expect(p.y).toBeGreaterThanOrEqual(g.top);
      expect(p.y).toBeLessThanOrEqual(g.bottom);
    }
    expect(g.path.startsWith('M')).toBe(true);
    expect(g.path.split('L')).toHaveLength(4);
  });

  it('survives zero times and drops bad points', () => {
    const g = chartGeometry([
      { n: 10, seconds: 0 },
      { n: 20, seconds: 0 },
      { n: NaN, seconds: 1 },
      { n: 5, seconds: -1 }
    ])!;
    expect(g.points).toHaveLength(2);
    for (const p of g.points) {
      expect(Number.isFinite(p.y)).toBe(true);
      expect(p.y).toBe(g.bottom);
    }
  });

  it('has nothing to draw without points', () => {
    expect(chartGeometry([])).toBeNull();
    expect(chartGeometry(null)).toBeNull();
  });
});

describe('complexity labels', () => {
  it('says whether the estimate matches the expectation', () => {
    expect(
      complexityLabel({
        estimate: 'O(n)',
        expected: 'O(n)',
        confidence: 0.92,
        matches: true
      })
    ).toBe('Estimated O(n) · as expected · confidence 92%');
    expect(
      complexityLabel({
        estimate: 'O(n^2)',
        expected: 'O(n)',
        confidence: 0.8,
        matches: false
      })
    ).toBe('Estimated O(n^2) · expected O(n) · confidence 80%');
    expect(
      complexityLabel({
        estimate: null,
        expected: 'O(n)',
        confidence: 0,
        matches: false
      })
    ).toBe('Complexity could not be measured');
  });
  it('says what the time and the memory class were measured by', () => {
    expect(
      complexityLabel({
        estimate: 'O(n log n)',
        expected: 'O(n log n)',
        confidence: 0.99,
        matches: true,
        basis: 'steps'
      })
    ).toBe(
      'Estimated O(n log n) · as expected · confidence 99% · from counted steps'
    );
    expect(
      spaceLabel({
        estimate: 'O(n)',
        confidence: 0.95,
        basis: 'allocated peak'
      })
    ).toBe('Memory O(n) · confidence 95% · from the allocated peak');
    expect(spaceLabel({ estimate: null, confidence: 0, basis: '' })).toBe('');
    expect(spaceLabel(undefined)).toBe('');
  });
  it('formats axis seconds', () => {
    expect(formatSeconds(0.0005)).toBe('500 µs');
    expect(formatSeconds(0.0042)).toBe('4.2 ms');
    expect(formatSeconds(0.25)).toBe('250 ms');
    expect(formatSeconds(1.5)).toBe('1.50 s');
  });
});
