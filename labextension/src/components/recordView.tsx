/**
 * The session record in an attempt of the history: the PDF report, collaboration metrics,
 * pastes, the diffs between consecutive Run/Submit sources, and the replay (a timeline under
 * the notebook with play, pause, speed, scrub and markers to jump to).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import React, { useEffect, useMemo, useRef, useState } from 'react';

import { notifyError } from '../notify';
import { IRecord, IRunDiff, Replayer, clock } from '../record';
import { PeerPrepError, errorMessage, requestAPI } from '../request';

const SPEEDS = [1, 2, 4, 8, 16];

/** Fetch the attempt's PDF report through the relay and save it. */
export async function downloadReport(roomId: string): Promise<void> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(
    settings.baseUrl,
    'peerprep',
    'api',
    'history',
    encodeURIComponent(roomId),
    'report.pdf'
  );
  const response = await ServerConnection.makeRequest(url, {}, settings);
  if (!response.ok) {
    const body = await response.text();
    throw new PeerPrepError(
      response.status,
      errorMessage(response.status, body)
    );
  }
  const blob = await response.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `peerprep-attempt-${roomId}.pdf`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function Metrics(props: { record: IRecord }): JSX.Element {
  const m = props.record.metrics;
  const secs = (v: number | null) =>
    v === null ? 'never' : `${Math.round(v)} s`;
  return (
    <div data-testid="peerprep-record-metrics">
      <table className="jp-PeerPrep-table">
        <thead>
          <tr>
            <th scope="col">Student</th>
            <th scope="col">Active typing</th>
            <th scope="col">Characters kept</th>
            <th scope="col">Share</th>
            <th scope="col">Runs</th>
            <th scope="col">Pastes</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(m.students).map(([name, s]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{Math.round(s.active_typing_s)} s</td>
              <td>{s.chars_kept}</td>
              <td>{Math.round(s.share * 100)} %</td>
              <td>{s.runs + s.submits}</td>
              <td>{s.pastes}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="jp-PeerPrep-muted">
        First Run after {secs(m.first_run_s)} · first passing Submit after{' '}
        {secs(m.first_pass_s)} · longest idle stretch {secs(m.longest_idle_s)}
      </p>
    </div>
  );
}

function Diff(props: { diff: IRunDiff; startMs: number }): JSX.Element {
  const d = props.diff;
  return (
    <details className="jp-PeerPrep-history-run">
      <summary>
        {d.kind === 'submit' ? 'Submit' : 'Run'} at{' '}
        {clock(d.to_ms, props.startMs)} by {d.user}:{' '}
        {d.diff.filter(l => /^[+-][^+-]/.test(l)).length} lines changed
      </summary>
      <div className="jp-PeerPrep-diff" data-testid="peerprep-run-diff">
        <pre className="jp-PeerPrep-pre" aria-label="Before">
          {d.before}
        </pre>
        <pre className="jp-PeerPrep-pre" aria-label="After">
          {d.after}
        </pre>
      </div>
    </details>
  );
}

function Replay(props: { record: IRecord }): JSX.Element {
  const replay = props.record.replay;
  const replayer = useMemo(() => new Replayer(replay), [replay]);
  const first = replay.steps.length ? replay.steps[0][0] : replay.start_ms;
  const start = Math.min(first, replay.start_ms || first);
  const end = Math.max(replay.end_ms, start);
  const [at, setAt] = useState(end);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(4);
  const timer = useRef<number | null>(null);

  useEffect(() => {
    if (!playing) {
      return;
    }
    const tick = 100;
    timer.current = window.setInterval(() => {
      setAt(now => {
        const next = now + tick * speed;
        if (next >= end) {
          setPlaying(false);
          return end;
        }
        return next;
      });
    }, tick);
    return () => {
      if (timer.current !== null) {
        window.clearInterval(timer.current);
      }
    };
  }, [playing, speed, end]);

  const cells = replayer.cellsAt(at);
  const author = replayer.authorAt(at);
  return (
    <div className="jp-PeerPrep-replay" data-testid="peerprep-replay">
      <div className="jp-PeerPrep-notebook">
        {cells.map((c, i) => (
          <pre
            key={i}
            className={`jp-PeerPrep-pre jp-PeerPrep-cell jp-PeerPrep-cell-${c.type}`}
            data-testid="peerprep-replay-cell"
          >
            {c.source}
          </pre>
        ))}
      </div>
      <div className="jp-PeerPrep-replay-controls">
        <button
          className="jp-mod-styled"
          onClick={() => {
            if (!playing && at >= end) {
              setAt(start);
            }
            setPlaying(!playing);
          }}
          data-testid="peerprep-replay-play"
        >
          {playing ? 'Pause' : 'Play'}
        </button>
        <label>
          Speed{' '}
          <select
            value={speed}
            onChange={e => setSpeed(Number(e.target.value))}
            data-testid="peerprep-replay-speed"
          >
            {SPEEDS.map(s => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <input
          type="range"
          min={start}
          max={end}
          step={100}
          value={at}
          aria-label="Replay position"
          aria-valuetext={clock(at, start)}
          onChange={e => {
            setPlaying(false);
            setAt(Number(e.target.value));
          }}
          data-testid="peerprep-replay-scrub"
        />
        <span data-testid="peerprep-replay-clock">
          {clock(at, start)} / {clock(end, start)}
          {author ? ` · last edit by ${author}` : ''}
        </span>
      </div>
      <ul className="jp-PeerPrep-replay-marks" aria-label="Markers">
        {replay.marks
          .slice()
          .sort((a, b) => a.at_ms - b.at_ms)
          .map((mark, i) => (
            <li key={i}>
              <button
                className="jp-mod-styled"
                onClick={() => {
                  setPlaying(false);
                  setAt(mark.at_ms);
                }}
                data-testid="peerprep-replay-mark"
                data-at={mark.at_ms}
              >
                {clock(mark.at_ms, start)} {mark.kind} · {mark.user}
              </button>
            </li>
          ))}
      </ul>
    </div>
  );
}

export function RecordView(props: { roomId: string }): JSX.Element {
  const [record, setRecord] = useState<IRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setRecord(null);
    requestAPI<IRecord>(`history/${encodeURIComponent(props.roomId)}/record`)
      .then(setRecord)
      .catch(e => setError(notifyError(e, 'Opening the session record')));
  }, [props.roomId]);
  const report = (
    <button
      className="jp-mod-styled"
      onClick={() =>
        downloadReport(props.roomId).catch(e =>
          notifyError(e, 'The PDF report')
        )
      }
      data-testid="peerprep-report"
    >
      Download PDF report
    </button>
  );
  if (error) {
    return (
      <div>
        {report}
        <p className="jp-PeerPrep-error" role="alert">
          {error}
        </p>
      </div>
    );
  }
  if (!record) {
    return <p>Loading the session record…</p>;
  }
  const startMs = record.replay.start_ms;
  return (
    <div data-testid="peerprep-record">
      {report}
      <h4>Replay</h4>
      {record.recorded ? (
        <Replay record={record} />
      ) : (
        <p className="jp-PeerPrep-muted">This session was not recorded.</p>
      )}
      <h4>Collaboration</h4>
      <Metrics record={record} />
      <h4>Pastes</h4>
      {record.pastes.length ? (
        <ul data-testid="peerprep-pastes">
          {record.pastes.map((p, i) => (
            <li key={i}>
              At {clock(p.at_ms, startMs)}, {p.user} inserted {p.text.length}{' '}
              characters at once:
              <pre className="jp-PeerPrep-pre">{p.text}</pre>
            </li>
          ))}
        </ul>
      ) : (
        <p className="jp-PeerPrep-muted">No large insertion at once.</p>
      )}
      <h4>Changes between runs</h4>
      {record.diffs.length ? (
        record.diffs.map((d, i) => <Diff key={i} diff={d} startMs={startMs} />)
      ) : (
        <p className="jp-PeerPrep-muted">
          Fewer than two runs: nothing to compare.
        </p>
      )}
    </div>
  );
}
