/**
 * The room panel of a pair server: the question (title, difficulty, topics, language, prompt,
 * and the starter in the room's language) pinned beside the notebook, partner presence, a
 * timer, Run/Submit with the results pane and the complexity chart, the room's earlier runs
 * (polled so both partners see them), heartbeats, End session with a confirmation, and a
 * clear screen once the session has ended.
 * Its state is the pure reducer in ../room/state.ts; its timers are RoomWatcher (../room/watch.ts).
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import React, { useEffect, useReducer, useRef } from 'react';

import { IMe, RunKind, api } from '../api';
import { formatClock, formatDateTime, historyLink, hubRoot } from '../format';
import { notifyError, notifySuccess } from '../notify';
import { runSummary } from '../results';
import {
  busyAnnouncement,
  canRun,
  connectionLost,
  displayName,
  elapsedSeconds,
  initialRoomState,
  isFinished,
  isOver,
  partners as partnersOf,
  roomReducer,
  shownRun
} from '../room/state';
import { RoomWatcher } from '../room/watch';
import { useVocabulary } from '../vocabulary';
import { PasteNotices } from './pasteNotices';
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

export function RoomPanel(props: IRoomProps): JSX.Element {
  const { me } = props;
  const vocabulary = useVocabulary();
  const [state, dispatch] = useReducer(
    roomReducer,
    Date.now(),
    initialRoomState
  );
  const { room, runs, busy, ending } = state;
  const opened = useRef(false);
  const watcher = useRef<RoomWatcher | null>(null);

  // "ending" already means the session is over for the students: the server stops soon after.
  const ended = isOver(state, vocabulary.room_states.over);
  const finished = isFinished(state);

  // Load the caller's room, open its notebook.
  useEffect(() => {
    api
      .currentRoom()
      .then(answer => {
        if (!answer.room) {
          dispatch({ type: 'no_room' });
          return;
        }
        dispatch({ type: 'loaded', room: answer.room, now: Date.now() });
        if (!opened.current && answer.room.notebook_path) {
          opened.current = true;
          props.openNotebook(answer.room.notebook_path);
        }
      })
      .catch(error =>
        dispatch({
          type: 'load_failed',
          message: notifyError(error, 'Loading the room')
        })
      );
  }, []);

  const roomId = room?.id ?? null;

  // The timers (room poll, runs poll, heartbeat, clock) for as long as the panel shows a room.
  useEffect(() => {
    if (!roomId) {
      return;
    }
    const w = new RoomWatcher(
      roomId,
      {
        onRoom: next => dispatch({ type: 'room', room: next, now: Date.now() }),
        onRoomGone: () => dispatch({ type: 'room_gone' }),
        onRoomFailed: () => dispatch({ type: 'room_failed' }),
        onConnectionLost: error =>
          notifyError(error, 'Lost contact with the room'),
        onRuns: list => dispatch({ type: 'runs', runs: list }),
        onHeartbeatLost: error => notifyError(error, 'Presence heartbeat'),
        onTick: now => dispatch({ type: 'tick', now })
      },
      {
        roomPollMs: props.roomPollMs,
        runsPollMs: props.runsPollMs,
        heartbeatMs: props.heartbeatMs
      }
    );
    watcher.current = w;
    w.start(ended, finished);
    return () => {
      w.stop();
      watcher.current = null;
    };
  }, [roomId]);

  useEffect(() => watcher.current?.setOver(ended), [ended]);
  useEffect(() => watcher.current?.setFinished(finished), [finished]);

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

  const doRun = async (kind: RunKind) => {
    if (!room || busy) {
      return;
    }
    dispatch({ type: 'run_started', kind });
    try {
      const source = await props.getSource(room.notebook_path);
      const run = await api.run(room.id, kind, source);
      dispatch({ type: 'run_done', run });
    } catch (error) {
      dispatch({ type: 'run_failed' });
      notifyError(error, kind === 'submit' ? 'Submit' : 'Run');
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
    dispatch({ type: 'ending', ending: true });
    try {
      const next = await api.endRoom(room.id);
      dispatch({ type: 'room', room: next, now: Date.now() });
      notifySuccess('Session ended.');
    } catch (error) {
      notifyError(error, 'Ending the session');
    } finally {
      dispatch({ type: 'ending', ending: false });
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

  if (state.loadError) {
    return (
      <div className="jp-PeerPrep-panel" role="alert">
        <h2>PeerPrep room</h2>
        {header}
        <p className="jp-PeerPrep-error">{state.loadError}</p>
      </div>
    );
  }
  if (state.noRoom) {
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
  const shown = shownRun(state);
  const elapsed = elapsedSeconds(state);
  const partners = partnersOf(room, me?.name);

  return (
    <div
      className="jp-PeerPrep-panel jp-PeerPrep-room"
      data-room-state={room.state}
    >
      <div className="jp-PeerPrep-sr-only" role="status" aria-live="polite">
        {busyAnnouncement(busy)}
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
        {q.language ? (
          <span
            className="jp-PeerPrep-tag"
            data-testid="peerprep-room-language"
            title="The language of this room's notebook"
          >
            {q.language}
          </span>
        ) : null}
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
      <PasteNotices roomId={room.id} />
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
      {connectionLost(state) ? (
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
      {q.starter ? (
        <details className="jp-PeerPrep-prompt">
          <summary>Starter{q.language ? ` (${q.language})` : ''}</summary>
          <pre data-testid="peerprep-starter" tabIndex={0}>
            <code>{q.starter}</code>
          </pre>
        </details>
      ) : null}
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
          disabled={!canRun(state)}
          aria-busy={busy === 'run'}
          data-testid="peerprep-run"
          title="Run the public tests"
        >
          {busy === 'run' ? 'Running…' : 'Run'}
        </button>
        <button
          className="jp-mod-styled jp-mod-accept"
          onClick={() => void doRun('submit')}
          disabled={!canRun(state)}
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
                  onClick={() => dispatch({ type: 'select', id: r.id })}
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
