/**
 * The room panel of a pair server: the question (title, difficulty, topics, prompt) pinned
 * beside the notebook, partner presence, a timer, Run/Submit with the results pane and the
 * complexity chart, the room's earlier runs (polled so both partners see them), heartbeats,
 * End session with a confirmation, and a clear screen once the session has ended.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import React, { useCallback, useEffect, useRef, useState } from 'react';

import { IMe, IRoom, IRun, RunKind, api } from '../api';
import { formatClock, formatDateTime, historyLink, hubRoot } from '../format';
import { notifyError, notifySuccess } from '../notify';
import { PeerPrepError } from '../request';
import { runSummary } from '../results';
import { showEndedOverlay } from './endedOverlay';
import { Markdown } from './markdown';
import { RunView } from './results';
import { TalkBar } from '../talk/CallBar';
import type { ChatDock } from '../talk/chatDock';

export interface IRoomProps {
  me: IMe | null;
  hubPrefix: string;
  rendermime?: IRenderMimeRegistry | null;
  /** The solution source from the room notebook (open editor, else the saved file). */
  getSource: (notebookPath: string) => Promise<string>;
  /** Open the room notebook in the main area. */
  openNotebook: (notebookPath: string) => void;
  roomPollMs?: number;
  runsPollMs?: number;
  heartbeatMs?: number;
  /** The room chat docked beside the notebook (talk/chatDock.ts). */
  chat?: ChatDock | null;
}

function displayName(room: IRoom, name: string | null | undefined): string {
  if (!name) {
    return 'someone';
  }
  const member = room.members.find(m => m.name === name);
  return member ? member.display_name || member.name : name;
}

export function RoomPanel(props: IRoomProps): JSX.Element {
  const { me } = props;
  const [room, setRoom] = useState<IRoom | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [noRoom, setNoRoom] = useState(false);
  const [runs, setRuns] = useState<IRun[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [busy, setBusy] = useState<RunKind | null>(null);
  const [ending, setEnding] = useState(false);
  const [connectionLost, setConnectionLost] = useState(false);
  const [elapsedAt, setElapsedAt] = useState<{ s: number; at: number } | null>(
    null
  );
  const [now, setNow] = useState(Date.now());
  const opened = useRef(false);
  const roomFailures = useRef(0);

  // "ending" already means the session is over for the students: the server stops soon after.
  const ended = room?.state === 'ended' || room?.state === 'ending';
  const finished = room?.state === 'ended';

  const acceptRoom = useCallback((next: IRoom) => {
    setRoom(next);
    if (typeof next.elapsed_s === 'number') {
      setElapsedAt({ s: next.elapsed_s, at: Date.now() });
    }
  }, []);

  // Load the caller's room, open its notebook.
  useEffect(() => {
    api
      .currentRoom()
      .then(answer => {
        if (!answer.room) {
          setNoRoom(true);
          return;
        }
        acceptRoom(answer.room);
        if (!opened.current && answer.room.notebook_path) {
          opened.current = true;
          props.openNotebook(answer.room.notebook_path);
        }
      })
      .catch(error => setLoadError(notifyError(error, 'Loading the room')));
  }, []);

  const roomId = room?.id ?? null;

  // Poll the room (state, presence) every 2 s until it has ended.
  useEffect(() => {
    if (!roomId || finished) {
      return;
    }
    const timer = setInterval(() => {
      api
        .room(roomId)
        .then(next => {
          roomFailures.current = 0;
          setConnectionLost(false);
          acceptRoom(next);
        })
        .catch(error => {
          roomFailures.current += 1;
          if (
            error instanceof PeerPrepError &&
            [403, 404, 424].includes(error.status)
          ) {
            // The room's share was revoked (PeerPrep revokes first when a session ends), its
            // server stopped (424 from the hub) or is gone (404): the session is over.
            setRoom(current =>
              current ? { ...current, state: 'ended' } : current
            );
            return;
          }
          if (roomFailures.current === 3) {
            setConnectionLost(true);
            notifyError(error, 'Lost contact with the room');
          }
        });
    }, props.roomPollMs ?? 1000);
    return () => clearInterval(timer);
  }, [roomId, finished]);

  // Poll the runs every 3 s so both partners see each other's runs.
  const refreshRuns = useCallback(() => {
    if (!roomId) {
      return Promise.resolve();
    }
    return api
      .runs(roomId)
      .then(answer => setRuns(answer.runs))
      .catch(error => {
        if (!(error instanceof PeerPrepError && error.status === 0)) {
          console.warn('PeerPrep: loading runs failed', error);
        }
      });
  }, [roomId]);

  useEffect(() => {
    if (!roomId) {
      return;
    }
    void refreshRuns();
    if (ended) {
      return;
    }
    const timer = setInterval(
      () => void refreshRuns(),
      props.runsPollMs ?? 3000
    );
    return () => clearInterval(timer);
  }, [roomId, ended, refreshRuns]);

  // Heartbeat every 10 s: presence for the partner.
  useEffect(() => {
    if (!roomId || ended) {
      return;
    }
    let failures = 0;
    const beat = () =>
      api
        .heartbeat(roomId)
        .then(next => {
          failures = 0;
          acceptRoom(next);
        })
        .catch(error => {
          failures += 1;
          if (failures === 2) {
            notifyError(error, 'Presence heartbeat');
          }
        });
    void beat();
    const timer = setInterval(() => void beat(), props.heartbeatMs ?? 10000);
    return () => clearInterval(timer);
  }, [roomId, ended]);

  // Once ended: the notice over the whole page (JupyterLab's own error dialogs follow soon).
  const endedBy = room?.ended_by ?? null;
  const endReason = room?.end_reason ?? null;
  useEffect(() => {
    if (!ended || !roomId) {
      return;
    }
    showEndedOverlay({
      by: endedBy && room ? displayName(room, endedBy) : null,
      reason: endReason,
      saved: finished,
      historyUrl: historyLink(props.hubPrefix, me?.name ?? '', roomId),
      hubHomeUrl: hubRoot(props.hubPrefix) + 'hub/home'
    });
  }, [ended, finished, roomId, endedBy, endReason, me?.name]);

  // The session timer.
  useEffect(() => {
    if (ended) {
      return;
    }
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ended]);

  const doRun = async (kind: RunKind) => {
    if (!room || busy) {
      return;
    }
    setBusy(kind);
    try {
      const source = await props.getSource(room.notebook_path);
      const run = await api.run(room.id, kind, source);
      setRuns(current => [run, ...current.filter(r => r.id !== run.id)]);
      setSelected(null);
    } catch (error) {
      notifyError(error, kind === 'submit' ? 'Submit' : 'Run');
    } finally {
      setBusy(null);
    }
  };

  const endSession = async () => {
    if (!room) {
      return;
    }
    const answer = await showDialog({
      title: 'End this session?',
      body: 'Your partner will see that the session has ended. The notebook is saved to both histories.',
      buttons: [
        Dialog.cancelButton(),
        Dialog.warnButton({ label: 'End session' })
      ]
    });
    if (!answer.button.accept) {
      return;
    }
    setEnding(true);
    try {
      acceptRoom(await api.endRoom(room.id));
      notifySuccess('Session ended.');
    } catch (error) {
      notifyError(error, 'Ending the session');
    } finally {
      setEnding(false);
    }
  };

  const header = (
    <p className="jp-PeerPrep-muted">
      Signed in as{' '}
      <strong className="jp-PeerPrep-username" data-testid="peerprep-username">
        {me?.name ?? '…'}
      </strong>
    </p>
  );

  if (loadError) {
    return (
      <div className="jp-PeerPrep-panel" role="alert">
        <h2>PeerPrep room</h2>
        {header}
        <p className="jp-PeerPrep-error">{loadError}</p>
      </div>
    );
  }
  if (noRoom) {
    return (
      <div className="jp-PeerPrep-panel">
        <h2>PeerPrep room</h2>
        {header}
        <p data-testid="peerprep-ended-notice">
          There is no active session in this room.{' '}
          <a href={historyLink(props.hubPrefix, '', '')}>Back to the hub</a>
        </p>
      </div>
    );
  }
  if (!room) {
    return <div className="jp-PeerPrep-panel">Loading the room…</div>;
  }

  if (ended) {
    const by = room.ended_by ? displayName(room, room.ended_by) : null;
    const link = historyLink(props.hubPrefix, me?.name ?? '', room.id);
    return (
      <div className="jp-PeerPrep-panel">
        <h2>PeerPrep room</h2>
        {header}
        <div className="jp-PeerPrep-card jp-PeerPrep-ended">
          <p>
            <strong>This session has ended</strong>
            {by
              ? ` (ended by ${by})`
              : room.end_reason
                ? ` (${room.end_reason})`
                : ''}
            .
          </p>
          {finished ? null : (
            <p className="jp-PeerPrep-muted">
              Saving the notebook to your history…
            </p>
          )}
          <p>
            <a href={link}>See it in your history</a>
          </p>
        </div>
      </div>
    );
  }

  const q = room.question;
  const shown =
    (selected && runs.find(r => r.id === selected)) || runs[0] || null;
  const elapsed = elapsedAt ? elapsedAt.s + (now - elapsedAt.at) / 1000 : 0;
  const partners = room.members.filter(m => m.name !== me?.name);

  return (
    <div
      className="jp-PeerPrep-panel jp-PeerPrep-room"
      data-room-state={room.state}
    >
      <div className="jp-PeerPrep-sr-only" role="status" aria-live="polite">
        {busy
          ? busy === 'run'
            ? 'Running the public tests…'
            : 'Submitting…'
          : ''}
      </div>
      {header}
      <h2 data-testid="peerprep-question-title">{q.title}</h2>
      <p className="jp-PeerPrep-tags">
        <span
          className={`jp-PeerPrep-difficulty jp-PeerPrep-difficulty-${q.difficulty}`}
        >
          {q.difficulty}
        </span>
        {(q.topics || []).map(t => (
          <span key={t} className="jp-PeerPrep-tag">
            {t}
          </span>
        ))}
        <span
          className="jp-PeerPrep-clock"
          data-testid="peerprep-timer"
          title="Session time"
        >
          Time {formatClock(elapsed)}
        </span>
      </p>
      {room.state !== 'active' ? (
        <p className="jp-PeerPrep-muted" data-testid="peerprep-room-state">
          Room is {room.state}
          {room.message ? `: ${room.message}` : ''}
        </p>
      ) : null}
      <ul className="jp-PeerPrep-members" aria-label="People in this room">
        {partners.map(m => (
          <li
            key={m.name}
            data-testid="peerprep-partner"
            data-online={m.online ? 'yes' : 'no'}
          >
            <span
              className={`jp-PeerPrep-presence jp-PeerPrep-presence-${m.online ? 'online' : 'away'}`}
              aria-hidden="true"
            />
            {m.display_name || m.name}{' '}
            <span className="jp-PeerPrep-muted">
              ({m.online ? 'online' : 'away'})
            </span>
          </li>
        ))}
      </ul>
      {room.observers && room.observers.length ? (
        <p
          className="jp-PeerPrep-notice"
          role="status"
          data-testid="peerprep-room-observers"
        >
          Your instructor {room.observers.join(', ')} opened this room and can
          see and edit the notebook.
        </p>
      ) : null}
      {connectionLost ? (
        <p
          className="jp-PeerPrep-error"
          role="alert"
          data-testid="peerprep-connection-lost"
        >
          Lost contact with the room; retrying…
        </p>
      ) : null}
      <details className="jp-PeerPrep-prompt" open>
        <summary>Question</summary>
        <Markdown
          source={q.prompt || ''}
          rendermime={props.rendermime}
          className="jp-PeerPrep-markdown"
          testid="peerprep-prompt"
        />
      </details>
      <TalkBar
        roomId={room.id}
        partner={partners.map(m => m.display_name || m.name).join(', ')}
        ended={ended}
        chat={props.chat ?? null}
      />
      <div className="jp-PeerPrep-buttons">
        <button
          className="jp-mod-styled jp-mod-accept"
          onClick={() => void doRun('run')}
          disabled={!!busy || room.state !== 'active'}
          aria-busy={busy === 'run'}
          data-testid="peerprep-run"
          title="Run the public tests"
        >
          {busy === 'run' ? 'Running…' : 'Run'}
        </button>
        <button
          className="jp-mod-styled jp-mod-accept"
          onClick={() => void doRun('submit')}
          disabled={!!busy || room.state !== 'active'}
          aria-busy={busy === 'submit'}
          data-testid="peerprep-submit"
          title="Submit against the hidden tests"
        >
          {busy === 'submit' ? 'Submitting…' : 'Submit'}
        </button>
        <button
          className="jp-mod-styled jp-mod-warn"
          onClick={() => void endSession()}
          disabled={ending}
          data-testid="peerprep-end"
        >
          End session
        </button>
      </div>
      {shown ? (
        <RunView run={shown} who={displayName(room, shown.username)} />
      ) : (
        <p className="jp-PeerPrep-muted">
          No runs yet: Run tries the public tests.
        </p>
      )}
      {runs.length ? (
        <div className="jp-PeerPrep-runs">
          <h3>Runs in this room</h3>
          <ul>
            {runs.map(r => (
              <li key={r.id}>
                <button
                  className={
                    'jp-PeerPrep-link' +
                    (shown && shown.id === r.id ? ' jp-mod-selected' : '')
                  }
                  onClick={() => setSelected(r.id)}
                  data-testid="peerprep-run-item"
                  aria-pressed={!!shown && shown.id === r.id}
                >
                  {runSummary(r)} · {displayName(room, r.username)} ·{' '}
                  {formatDateTime(r.created)}
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
