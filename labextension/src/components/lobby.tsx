/**
 * The lobby: choose difficulty, topics and language, find a partner, wait (elapsed time, what
 * is looked for now, when the search widened, cancel), and on a match open the room.
 * The waiting flow's logic is the pure reducer in ../matching/state.ts.
 */
import React, {
  useCallback,
  useEffect,
  useReducer,
  useRef,
  useState
} from 'react';

import {
  DIFFICULTIES,
  Difficulty,
  IMatchRequest,
  IQuestionCounts,
  IRoom,
  ITicket,
  api
} from '../api';
import { formatClock, newKey } from '../format';
import {
  elapsedSeconds,
  initialState,
  isSearching,
  lookingFor,
  orderTopics,
  reducer,
  retryRequest,
  widenRequest
} from '../matching/state';
import { TicketWatcher } from '../matching/watch';
import { notifyError, notifyInfo } from '../notify';
import { PeerPrepError } from '../request';

const TICKET_KEY = 'peerprep:ticket';
const OPEN_IN_KEY = 'peerprep:open-room-in';

type OpenIn = 'same' | 'new';

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function readOpenIn(): OpenIn {
  return storage()?.getItem(OPEN_IN_KEY) === 'new' ? 'new' : 'same';
}

/** Go to the room: same tab, or a new one (falls back to the same tab if a pop-up is blocked). */
export function openRoom(url: string, openIn: OpenIn): void {
  if (openIn === 'new') {
    const w = window.open(url, '_blank', 'noopener');
    if (w) {
      return;
    }
  }
  window.location.assign(url);
}

export interface ILobbyProps {
  /** Seconds between polls of a starting room before opening it. */
  roomPollMs?: number;
}

export function Lobby(props: ILobbyProps): JSX.Element {
  const [state, dispatch] = useReducer(reducer, initialState);
  const [counts, setCounts] = useState<IQuestionCounts | null>(null);
  const [difficulty, setDifficulty] = useState<Difficulty>('medium');
  const [topics, setTopics] = useState<string[]>([]);
  const [language, setLanguage] = useState<string>('python');
  const [languages, setLanguages] = useState<string[]>(['python']);
  const [openIn, setOpenIn] = useState<OpenIn>(readOpenIn());
  const [activeRoom, setActiveRoom] = useState<IRoom | null>(null);
  const [roomStatus, setRoomStatus] = useState<string>('');
  const [now, setNow] = useState<number>(Date.now());
  const watcher = useRef<TicketWatcher | null>(null);
  const opened = useRef<string | null>(null);

  const follow = useCallback((ticketId: string) => {
    watcher.current?.stop();
    const w = new TicketWatcher(ticketId, {
      onTicket: (ticket: ITicket) =>
        dispatch({ type: 'ticket', ticket, now: Date.now() }),
      onTransport: transport => dispatch({ type: 'transport', transport }),
      onError: message => notifyError(message, 'Checking your match')
    });
    watcher.current = w;
    storage()?.setItem(TICKET_KEY, ticketId);
    w.start();
  }, []);

  // First paint: question counts, preferred topics, an open ticket or an active room.
  useEffect(() => {
    api
      .questions()
      .then(list => {
        setCounts(list.counts);
        if (list.languages && list.languages.length) {
          setLanguages(list.languages);
        }
      })
      .catch(error => notifyError(error, 'Loading the question counts'));
    api
      .profile()
      .then(profile => {
        if (profile.topics && profile.topics.length) {
          setTopics(current => (current.length ? current : profile.topics));
        }
        if (profile.language) {
          setLanguage(profile.language);
        }
      })
      .catch(() => {
        // The profile panel reports profile errors; the lobby works without one.
      });
    api
      .currentRoom()
      .then(answer => setActiveRoom(answer.room))
      .catch(error => {
        if (!(error instanceof PeerPrepError && error.status === 404)) {
          notifyError(error, 'Looking for your current session');
        }
      });
    const stored = storage()?.getItem(TICKET_KEY);
    if (stored) {
      api
        .ticket(stored)
        .then(ticket => {
          if (ticket.state === 'waiting' || ticket.state === 'relaxed') {
            dispatch({ type: 'resume', ticket, now: Date.now() });
            follow(ticket.id);
          } else {
            storage()?.removeItem(TICKET_KEY);
          }
        })
        .catch(() => storage()?.removeItem(TICKET_KEY));
    }
    return () => watcher.current?.stop();
  }, [follow]);

  // The clock: elapsed time ticks every second while searching.
  useEffect(() => {
    if (!isSearching(state.phase)) {
      return;
    }
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [state.phase]);

  // Final states: forget the stored ticket; on a match, open the room once it is running.
  useEffect(() => {
    if (
      state.phase === 'matched' ||
      state.phase === 'timed_out' ||
      state.phase === 'cancelled'
    ) {
      storage()?.removeItem(TICKET_KEY);
    }
    const room = state.ticket?.room;
    if (state.phase !== 'matched' || !room || opened.current === room.id) {
      return;
    }
    opened.current = room.id;
    let cancelled = false;
    let failures = 0;
    const started = Date.now();
    const check = () => {
      if (cancelled) {
        return;
      }
      api
        .room(room.id)
        .then(full => {
          if (cancelled) {
            return;
          }
          if (full.state === 'active') {
            setRoomStatus('Opening your room…');
            setTimeout(
              () => !cancelled && openRoom(full.url || room.url, readOpenIn()),
              1200
            );
            return;
          }
          if (full.state === 'failed' || full.state === 'ended') {
            setRoomStatus(
              full.message || `The room could not start (${full.state}).`
            );
            notifyError(
              full.message || `The room could not start (${full.state}).`
            );
            return;
          }
          setRoomStatus('Preparing your room…');
          setTimeout(check, props.roomPollMs ?? 1000);
        })
        .catch(error => {
          failures += 1;
          if (failures === 1) {
            notifyError(error, 'Checking your room');
          }
          if (Date.now() - started > 120000) {
            setRoomStatus('The room is taking long to start; use "Open room".');
            return;
          }
          setTimeout(check, props.roomPollMs ?? 1000);
        });
    };
    setRoomStatus('Preparing your room…');
    check();
    return () => {
      cancelled = true;
    };
  }, [state.phase, state.ticket, props.roomPollMs]);

  const find = useCallback(
    async (request: IMatchRequest) => {
      if (!request.topics.length) {
        notifyError('Choose at least one topic.');
        return;
      }
      const key = newKey();
      dispatch({ type: 'submit', request, key, now: Date.now() });
      try {
        const ticket = await api.match(request, key);
        dispatch({ type: 'submitted', ticket, now: Date.now() });
        if (ticket.state === 'waiting' || ticket.state === 'relaxed') {
          follow(ticket.id);
        }
      } catch (error) {
        const ticket: ITicket | undefined =
          error instanceof PeerPrepError ? error.body?.ticket : undefined;
        if (
          ticket &&
          (ticket.state === 'waiting' || ticket.state === 'relaxed')
        ) {
          notifyInfo((error as Error).message + ' Following your open ticket.');
          dispatch({ type: 'resume', ticket, now: Date.now() });
          follow(ticket.id);
          return;
        }
        const message = notifyError(error, 'Finding a partner');
        dispatch({ type: 'submit_failed', message, now: Date.now() });
        if (error instanceof PeerPrepError && error.status === 409) {
          api
            .currentRoom()
            .then(answer => setActiveRoom(answer.room))
            .catch(() => undefined);
        }
      }
    },
    [follow]
  );

  const cancel = useCallback(async () => {
    const ticket = state.ticket;
    if (!ticket) {
      return;
    }
    dispatch({ type: 'cancel', now: Date.now() });
    try {
      const answer = await api.cancel(ticket.id);
      dispatch({ type: 'ticket', ticket: answer, now: Date.now() });
    } catch (error) {
      const message = notifyError(error, 'Cancelling');
      const body: ITicket | undefined =
        error instanceof PeerPrepError ? error.body?.ticket : undefined;
      dispatch({
        type: 'cancel_failed',
        message,
        ticket: body ?? null,
        now: Date.now()
      });
    }
  }, [state.ticket]);

  const toggleTopic = (topic: string) =>
    setTopics(current =>
      current.includes(topic)
        ? current.filter(t => t !== topic)
        : [...current, topic]
    );

  const chooseOpenIn = (value: OpenIn) => {
    setOpenIn(value);
    storage()?.setItem(OPEN_IN_KEY, value);
  };

  const topicCount = (topic: string): number | null => {
    if (!counts) {
      return null;
    }
    const matrix = counts.difficulty_topic?.[difficulty];
    return matrix ? (matrix[topic] ?? 0) : (counts.topic[topic] ?? 0);
  };
  const visibleTopics = orderTopics(counts);

  const searching = isSearching(state.phase);
  const elapsed = elapsedSeconds(state, Math.max(now, state.now));
  const room = state.ticket?.room ?? null;

  return (
    <div className="jp-PeerPrep-lobby">
      <div className="jp-PeerPrep-sr-only" role="status" aria-live="polite">
        {state.announcement}
      </div>
      {activeRoom && !searching && state.phase !== 'matched' ? (
        <div className="jp-PeerPrep-card" data-testid="peerprep-active-room">
          <p>
            You are in a session on <strong>{activeRoom.question.title}</strong>
            .
          </p>
          <button
            className="jp-mod-styled jp-mod-accept"
            onClick={() => openRoom(activeRoom.url, openIn)}
            data-testid="peerprep-rejoin"
          >
            Rejoin room
          </button>
        </div>
      ) : null}

      <div
        className="jp-PeerPrep-status"
        data-testid="peerprep-status"
        data-state={state.phase}
        data-transport={state.transport ?? ''}
      >
        {searching ? (
          <div className="jp-PeerPrep-card">
            <p>
              <strong>
                {state.phase === 'cancelling'
                  ? 'Cancelling…'
                  : 'Looking for a partner…'}
              </strong>{' '}
              <span
                className="jp-PeerPrep-clock"
                data-testid="peerprep-elapsed"
              >
                {formatClock(elapsed)}
              </span>
            </p>
            <p data-testid="peerprep-criteria">
              Looking for: <strong>{lookingFor(state)}</strong>
            </p>
            {state.relaxations.length ? (
              <ul
                className="jp-PeerPrep-relaxations"
                data-testid="peerprep-relaxed"
              >
                {state.relaxations.map(r => (
                  <li key={r.level} title={r.message}>
                    After {formatClock(r.atSeconds)}: widened to{' '}
                    <strong>{r.label}</strong>
                  </li>
                ))}
              </ul>
            ) : null}
            <button
              className="jp-mod-styled jp-mod-reject"
              onClick={() => void cancel()}
              disabled={state.phase !== 'waiting'}
              data-testid="peerprep-cancel"
              aria-label="Cancel the search"
            >
              Cancel
            </button>
          </div>
        ) : null}

        {state.phase === 'timed_out' && state.request ? (
          <div className="jp-PeerPrep-card" data-testid="peerprep-timed-out">
            <p>{state.ticket?.message || 'No partner was found this time.'}</p>
            <div className="jp-PeerPrep-buttons">
              <button
                className="jp-mod-styled jp-mod-accept"
                onClick={() => void find(retryRequest(state.request!))}
                data-testid="peerprep-retry"
              >
                Try again
              </button>
              <button
                className="jp-mod-styled"
                onClick={() => {
                  const wider = widenRequest(state.request!, counts);
                  setDifficulty(wider.difficulty);
                  setTopics(wider.topics);
                  void find(wider);
                }}
                data-testid="peerprep-widen"
              >
                Widen search
              </button>
            </div>
          </div>
        ) : null}

        {state.phase === 'cancelled' ? <p>You left the queue.</p> : null}
        {state.phase === 'error' && state.error ? (
          <p className="jp-PeerPrep-error" role="alert">
            {state.error}
          </p>
        ) : null}

        {state.phase === 'matched' && room ? (
          <div className="jp-PeerPrep-card jp-PeerPrep-matched">
            <p>
              <strong>Matched!</strong> Your partner:{' '}
              <strong data-testid="peerprep-partner">
                {room.partner.display_name || room.partner.name}
              </strong>
            </p>
            <p>
              Question:{' '}
              <strong data-testid="peerprep-question-title">
                {room.question.title}
              </strong>
            </p>
            <p className="jp-PeerPrep-muted" data-testid="peerprep-room-status">
              {roomStatus}
            </p>
            <div className="jp-PeerPrep-buttons">
              <button
                className="jp-mod-styled jp-mod-accept"
                onClick={() => openRoom(room.url, openIn)}
                data-testid="peerprep-open-room"
              >
                Open room
              </button>
              <button
                className="jp-mod-styled"
                onClick={() => {
                  opened.current = null;
                  dispatch({ type: 'reset' });
                }}
                data-testid="peerprep-back-to-lobby"
              >
                Back to the lobby
              </button>
            </div>
          </div>
        ) : null}
      </div>

      {!searching && state.phase !== 'matched' ? (
        <form
          className="jp-PeerPrep-form"
          onSubmit={e => {
            e.preventDefault();
            void find({ difficulty, topics, language });
          }}
        >
          <fieldset>
            <legend>Difficulty</legend>
            <div className="jp-PeerPrep-choices">
              {DIFFICULTIES.map(d => (
                <label key={d} className="jp-PeerPrep-choice">
                  <input
                    type="radio"
                    name="peerprep-difficulty"
                    value={d}
                    checked={difficulty === d}
                    onChange={() => setDifficulty(d)}
                    data-testid={`peerprep-difficulty-${d}`}
                  />
                  {d}
                  {counts ? (
                    <span className="jp-PeerPrep-count">
                      {' '}
                      ({counts.difficulty[d] ?? 0})
                    </span>
                  ) : null}
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend>Topics</legend>
            <div className="jp-PeerPrep-chips">
              {visibleTopics.map(t => {
                const n = topicCount(t);
                const checked = topics.includes(t);
                return (
                  <label
                    key={t}
                    className={
                      'jp-PeerPrep-chip' +
                      (checked ? ' jp-mod-selected' : '') +
                      (n === 0 ? ' jp-PeerPrep-chip-empty' : '')
                    }
                    title={
                      n === null
                        ? t
                        : `${n} ${difficulty} question${n === 1 ? '' : 's'} on ${t}`
                    }
                  >
                    <input
                      type="checkbox"
                      checked={checked}
                      onChange={() => toggleTopic(t)}
                      data-testid={`peerprep-topic-${t}`}
                    />
                    {t}
                    {n !== null ? (
                      <span className="jp-PeerPrep-count"> {n}</span>
                    ) : null}
                  </label>
                );
              })}
            </div>
          </fieldset>
          <label className="jp-PeerPrep-field">
            Language{' '}
            <select
              value={language}
              onChange={e => setLanguage(e.target.value)}
              data-testid="peerprep-language"
            >
              {languages.map(l => (
                <option key={l} value={l}>
                  {l}
                  {counts?.language ? ` (${counts.language[l] ?? 0})` : ''}
                </option>
              ))}
            </select>
          </label>
          <label className="jp-PeerPrep-field">
            Open the room in{' '}
            <select
              value={openIn}
              onChange={e => chooseOpenIn(e.target.value as OpenIn)}
              data-testid="peerprep-open-in"
            >
              <option value="same">this tab</option>
              <option value="new">a new tab</option>
            </select>
          </label>
          <button
            type="submit"
            className="jp-mod-styled jp-mod-accept jp-PeerPrep-primary"
            data-testid="peerprep-find-partner"
            disabled={topics.length === 0}
            aria-label="Find a partner"
          >
            Find a partner
          </button>
          {topics.length === 0 ? (
            <p className="jp-PeerPrep-muted">Choose at least one topic.</p>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}
