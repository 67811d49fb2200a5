/**
 * The history panel: every attempt (question, difficulty, partner, date-time, duration, result,
 * complexity), filters by topic and difficulty, and one attempt's final notebook (read-only)
 * and runs, with an export of the notebook as .ipynb.
 */
import React, { useCallback, useEffect, useState } from 'react';

import { DIFFICULTIES, IAttempt, IAttemptDetail, api } from '../api';
import { formatDateTime, formatDuration } from '../format';
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
import { notifyError } from '../notify';
import { ChatTranscript } from '../talk/TranscriptView';
import { withTranscript } from '../talk/transcript';
import { RecordView } from './recordView';
import { RunView } from './results';

/** Download the attempt's final notebook as an .ipynb file. */
export function downloadNotebook(detail: IAttemptDetail): void {
  if (!detail.final_notebook) {
    notifyError('This attempt has no saved notebook.');
    return;
  }
  const blob = new Blob(
    [notebookText(withTranscript(detail.final_notebook, detail.chat))],
    {
      type: 'application/x-ipynb+json'
    }
  );
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = exportFilename(detail);
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function AttemptView(props: {
  roomId: string;
  onBack: () => void;
}): JSX.Element {
  const [detail, setDetail] = useState<IAttemptDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDetail(null);
    api
      .attempt(props.roomId)
      .then(setDetail)
      .catch(e => setError(notifyError(e, 'Opening the attempt')));
  }, [props.roomId]);

  const back = (
    <button
      className="jp-mod-styled"
      onClick={props.onBack}
      data-testid="peerprep-history-back"
    >
      ← All attempts
    </button>
  );
  if (error) {
    return (
      <div>
        {back}
        <p className="jp-PeerPrep-error" role="alert">
          {error}
        </p>
      </div>
    );
  }
  if (!detail) {
    return (
      <div>
        {back}
        <p>Loading the attempt…</p>
      </div>
    );
  }
  const blocks = notebookBlocks(detail.final_notebook);
  return (
    <div className="jp-PeerPrep-attempt" data-testid="peerprep-attempt">
      {back}
      <h3>{detail.question.title}</h3>
      <p className="jp-PeerPrep-muted">
        {detail.question.difficulty} · with {partnerLabel(detail)} ·{' '}
        {formatDateTime(detail.started)} · {formatDuration(detail.duration_s)} ·{' '}
        <span data-testid="peerprep-attempt-result">
          {resultLabel(detail.result)}
        </span>{' '}
        · <span data-testid="peerprep-attempt-end">{endLabel(detail)}</span>
      </p>
      {endedAbnormally(detail) ? (
        <p
          className="jp-PeerPrep-error"
          data-testid="peerprep-attempt-end-message"
        >
          {detail.end_message}
        </p>
      ) : null}
      <button
        className="jp-mod-styled jp-mod-accept"
        onClick={() => downloadNotebook(detail)}
        disabled={!detail.final_notebook}
        data-testid="peerprep-export"
      >
        Export notebook
      </button>
      <RecordView roomId={detail.room_id} />
      <h4>Runs</h4>
      {detail.runs.length ? (
        detail.runs.map(run => (
          <details key={run.id} className="jp-PeerPrep-history-run">
            <summary>
              {run.kind === 'submit' ? 'Submit' : 'Run'} · {run.passed}/
              {run.total} · {run.username} · {formatDateTime(run.created)}
            </summary>
            <RunView run={run} />
          </details>
        ))
      ) : (
        <p className="jp-PeerPrep-muted">No runs in this session.</p>
      )}
      <ChatTranscript lines={detail.chat} />
      <h4>Final notebook</h4>
      {blocks.length ? (
        <div
          className="jp-PeerPrep-notebook"
          data-testid="peerprep-final-notebook"
        >
          {blocks.map((b, i) => (
            <pre
              key={i}
              className={`jp-PeerPrep-pre jp-PeerPrep-cell jp-PeerPrep-cell-${b.kind}`}
            >
              {b.source}
            </pre>
          ))}
        </div>
      ) : (
        <p className="jp-PeerPrep-muted">
          No notebook was saved for this session.
        </p>
      )}
    </div>
  );
}

export function History(props: {
  open?: string | null;
  visible: boolean;
}): JSX.Element {
  const [attempts, setAttempts] = useState<IAttempt[] | null>(null);
  const [topic, setTopic] = useState('');
  const [difficulty, setDifficulty] = useState('');
  const [openId, setOpenId] = useState<string | null>(props.open ?? null);

  const load = useCallback(() => {
    api
      .history()
      .then(answer => setAttempts(answer.attempts))
      .catch(error => {
        notifyError(error, 'Loading your history');
        setAttempts(current => current ?? []);
      });
  }, []);

  useEffect(() => {
    if (props.visible) {
      load();
    }
  }, [props.visible, load]);

  useEffect(() => {
    if (props.open) {
      setOpenId(props.open);
    }
  }, [props.open]);

  if (openId) {
    return <AttemptView roomId={openId} onBack={() => setOpenId(null)} />;
  }
  if (attempts === null) {
    return <p>Loading your history…</p>;
  }
  const shown = filterAttempts(attempts, { topic, difficulty });
  return (
    <div className="jp-PeerPrep-history">
      <div className="jp-PeerPrep-filters">
        <label>
          Difficulty{' '}
          <select
            value={difficulty}
            onChange={e => setDifficulty(e.target.value)}
            data-testid="peerprep-history-difficulty"
          >
            <option value="">any</option>
            {DIFFICULTIES.map(d => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          Topic{' '}
          <select
            value={topic}
            onChange={e => setTopic(e.target.value)}
            data-testid="peerprep-history-topic"
          >
            <option value="">any</option>
            {attemptTopics(attempts).map(t => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>{' '}
        <button
          className="jp-mod-styled"
          onClick={load}
          aria-label="Refresh history"
        >
          Refresh
        </button>
      </div>
      {shown.length === 0 ? (
        <p className="jp-PeerPrep-muted" data-testid="peerprep-history-empty">
          {attempts.length
            ? 'No attempt matches these filters.'
            : 'No attempts yet.'}
        </p>
      ) : (
        <ul className="jp-PeerPrep-history-list">
          {shown.map(a => (
            <li key={a.room_id}>
              <button
                className="jp-PeerPrep-history-item"
                onClick={() => setOpenId(a.room_id)}
                data-testid="peerprep-history-item"
                data-room-id={a.room_id}
              >
                <span className="jp-PeerPrep-history-title">
                  {a.question.title}
                </span>
                <span className="jp-PeerPrep-muted">
                  {a.question.difficulty} · with{' '}
                  <span data-testid="peerprep-history-partner">
                    {partnerLabel(a)}
                  </span>
                </span>
                <span className="jp-PeerPrep-muted">
                  {formatDateTime(a.started)} · {formatDuration(a.duration_s)} ·{' '}
                  <span data-testid="peerprep-history-end">{endLabel(a)}</span>
                </span>
                <span data-testid="peerprep-history-result">
                  {resultLabel(a.result)}
                  {a.result?.complexity?.estimate
                    ? ` · ${a.result.complexity.estimate}`
                    : ''}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
