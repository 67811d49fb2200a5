/**
 * Geometry of the small complexity chart (running time against input size n), computed
 * without a chart library: scale the measured points into an SVG box.
 */
import { IComplexityPoint } from './api';

export interface IChartPoint {
  n: number;
  seconds: number;
  x: number;
  y: number;
}

export interface IChartGeometry {
  width: number;
  height: number;
  /** The plotting area inside the padding. */
  left: number;
  right: number;
  top: number;
  bottom: number;
  maxN: number;
  maxSeconds: number;
  points: IChartPoint[];
  /** SVG path through the points, in order of n. */
  path: string;
}

export interface IChartOptions {
  width?: number;
  height?: number;
  padding?: number;
}

/** Scale points to an SVG box (origin bottom-left: y grows upward); null when nothing to plot. */
export function chartGeometry(
  points: IComplexityPoint[] | null | undefined,
  options: IChartOptions = {}
): IChartGeometry | null {
  const width = options.width ?? 240;
  const height = options.height ?? 120;
  const padding = options.padding ?? 24;
  const valid = (points || [])
    .filter(
      p =>
        p &&
        Number.isFinite(p.n) &&
        Number.isFinite(p.seconds) &&
        p.n >= 0 &&
        p.seconds >= 0
    )
    .sort((a, b) => a.n - b.n);
  if (valid.length === 0) {
    return null;
  }
  const left = padding;
  const right = width - padding / 2;
  const top = padding / 2;
  const bottom = height - padding;
  const maxN = Math.max(...valid.map(p => p.n)) || 1;
  const maxSeconds = Math.max(...valid.map(p => p.seconds)) || 1;
  const scaled = valid.map(p => ({
    n: p.n,
    seconds: p.seconds,
    x: round(left + (p.n / maxN) * (right - left)),
    y: round(bottom - (p.seconds / maxSeconds) * (bottom - top))
  }));
  const path = scaled
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`)
    .join(' ');
  return {
    width,
    height,
    left,
    right,
    top,
    bottom,
    maxN,
    maxSeconds,
    points: scaled,
    path
  };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Seconds for an axis label: "0.8 ms", "12 ms", "1.25 s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 0.001) {
    return `${(seconds * 1e6).toFixed(0)} µs`;
  }
  if (seconds < 1) {
    const ms = seconds * 1000;
    return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
  }
  return `${seconds.toFixed(2)} s`;
}

const BASES: Record<string, string> = {
  steps: 'from counted steps',
  'cpu time': 'from CPU time',
  'allocated peak': 'from the allocated peak',
  'resident size': 'from the resident size'
};

/** "Estimated O(n) · as expected · confidence 92% · from counted steps". */
export function complexityLabel(c: {
  estimate: string | null;
  expected: string | null;
  confidence: number;
  matches: boolean;
  basis?: string;
}): string {
  if (!c.estimate) {
    return 'Complexity could not be measured';
  }
  const parts = [`Estimated ${c.estimate}`];
  if (c.expected) {
    parts.push(c.matches ? `as expected` : `expected ${c.expected}`);
  }
  if (Number.isFinite(c.confidence)) {
    parts.push(`confidence ${Math.round(c.confidence * 100)}%`);
  }
  if (c.basis && BASES[c.basis]) {
    parts.push(BASES[c.basis]);
  }
  return parts.join(' · ');
}

/** "Memory O(n) · confidence 95% · from the allocated peak"; '' when not measured. */
export function spaceLabel(
  space:
    { estimate: string | null; confidence: number; basis: string } | undefined
): string {
  if (!space || !space.estimate) {
    return '';
  }
  const parts = [`Memory ${space.estimate}`];
  if (Number.isFinite(space.confidence)) {
    parts.push(`confidence ${Math.round(space.confidence * 100)}%`);
  }
  if (BASES[space.basis]) {
    parts.push(BASES[space.basis]);
  }
  return parts.join(' · ');
}
