/**
 * The results pane of a run (per-case table) and the complexity chart, shared by the room and
 * the history panel.
 */
import React from 'react';

import { IComplexity, IRun } from '../api';
import {
  chartGeometry,
  complexityLabel,
  formatSeconds,
  spaceLabel
} from '../complexity';
import { formatDateTime } from '../format';
import { caseRows, runSummary } from '../results';

export function ComplexityChart(props: {
  complexity: IComplexity;
}): JSX.Element {
  const { complexity } = props;
  const geometry = chartGeometry(complexity.points);
  const label = complexityLabel(complexity);
  const space = spaceLabel(complexity.space);
  return (
    <div
      className={
        'jp-PeerPrep-complexity' +
        (complexity.matches ? ' jp-PeerPrep-complexity-match' : '')
      }
      data-testid="peerprep-complexity"
    >
      <p className="jp-PeerPrep-complexity-label">{label}</p>
      {space ? (
        <p
          className="jp-PeerPrep-complexity-space"
          data-testid="peerprep-complexity-space"
        >
          {space}
        </p>
      ) : null}
      {complexity.message ? (
        <p className="jp-PeerPrep-muted">{complexity.message}</p>
      ) : null}
      {geometry ? (
        <svg
          className="jp-PeerPrep-chart"
          width={geometry.width}
          height={geometry.height}
          viewBox={`0 0 ${geometry.width} ${geometry.height}`}
          role="img"
          aria-label={`Running time against n: ${geometry.points
            .map(p => `n=${p.n}: ${formatSeconds(p.seconds)}`)
            .join(', ')}`}
        >
          <line
            className="jp-PeerPrep-chart-axis"
            x1={geometry.left}
            y1={geometry.bottom}
            x2={geometry.right}
            y2={geometry.bottom}
          />
          <line
            className="jp-PeerPrep-chart-axis"
            x1={geometry.left}
            y1={geometry.top}
            x2={geometry.left}
            y2={geometry.bottom}
          />
          <path
            className="jp-PeerPrep-chart-line"
            d={geometry.path}
            fill="none"
          />
          {geometry.points.map(p => (
            <circle
              key={p.n}
              className="jp-PeerPrep-chart-point"
              cx={p.x}
              cy={p.y}
              r={3}
            >
              <title>{`n = ${p.n}: ${formatSeconds(p.seconds)}`}</title>
            </circle>
          ))}
          <text
            className="jp-PeerPrep-chart-text"
            x={geometry.right}
            y={geometry.height - 6}
            textAnchor="end"
          >
            n = {geometry.maxN}
          </text>
          <text
            className="jp-PeerPrep-chart-text"
            x={geometry.left + 4}
            y={geometry.top + 8}
          >
            {formatSeconds(geometry.maxSeconds)}
          </text>
        </svg>
      ) : null}
    </div>
  );
}

export function RunView(props: { run: IRun; who?: string }): JSX.Element {
  const { run } = props;
  const rows = caseRows(run);
  return (
    <div
      className="jp-PeerPrep-run"
      data-testid="peerprep-results"
      data-kind={run.kind}
      data-verdict={run.verdict}
    >
      <p className={`jp-PeerPrep-summary jp-PeerPrep-verdict-${run.verdict}`}>
        <strong data-testid="peerprep-run-summary">{runSummary(run)}</strong>
        <span className="jp-PeerPrep-muted">
          {' '}
          by {props.who || run.username} · {formatDateTime(run.created)}
        </span>
      </p>
      {run.verdict === 'error' && run.message ? (
        <pre className="jp-PeerPrep-pre jp-PeerPrep-error">{run.message}</pre>
      ) : null}
      <ul className="jp-PeerPrep-cases">
        {rows.map((row, i) => (
          <li
            key={i}
            className={`jp-PeerPrep-case jp-PeerPrep-case-${row.status}`}
            data-testid="peerprep-case"
            data-status={row.status}
          >
            <div className="jp-PeerPrep-case-head">
              <span className="jp-PeerPrep-badge" aria-hidden="true">
                {row.passed ? '✓' : '✗'}
              </span>
              <span className="jp-PeerPrep-case-name">{row.name}</span>
              <span className="jp-PeerPrep-case-status">
                {row.passed
                  ? 'passed'
                  : `failed${row.reason ? ' · ' + row.reason : ''}`}
              </span>
              {row.details && (row.details.time || row.details.memory) ? (
                <span className="jp-PeerPrep-muted">
                  {' '}
                  {[row.details.time, row.details.memory]
                    .filter(Boolean)
                    .join(' · ')}
                </span>
              ) : null}
            </div>
            {row.details ? (
              <dl className="jp-PeerPrep-case-details">
                <dt>input</dt>
                <dd>
                  <code>{row.details.input}</code>
                </dd>
                <dt>expected</dt>
                <dd>
                  <code>{row.details.expected}</code>
                </dd>
                <dt>got</dt>
                <dd>
                  <code>{row.details.got}</code>
                </dd>
                {row.details.stdout ? (
                  <>
                    <dt>stdout</dt>
                    <dd>
                      <pre className="jp-PeerPrep-pre">
                        {row.details.stdout}
                      </pre>
                    </dd>
                  </>
                ) : null}
                {row.details.stderr ? (
                  <>
                    <dt>stderr</dt>
                    <dd>
                      <pre className="jp-PeerPrep-pre">
                        {row.details.stderr}
                      </pre>
                    </dd>
                  </>
                ) : null}
                {row.details.error ? (
                  <>
                    <dt>error</dt>
                    <dd>
                      <pre className="jp-PeerPrep-pre jp-PeerPrep-error">
                        {row.details.error}
                      </pre>
                    </dd>
                  </>
                ) : null}
              </dl>
            ) : null}
          </li>
        ))}
      </ul>
      {run.complexity ? <ComplexityChart complexity={run.complexity} /> : null}
    </div>
  );
}
