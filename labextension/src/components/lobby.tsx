/**
 * The lobby: choose difficulty, topics and language, find a partner, wait (elapsed time, what
 * is looked for now, when the search widened, cancel), and on a match open the room.
 * The waiting flow is the pure reducer in ../matching/state.ts (followed by TicketWatcher), the
 * form and the room opening are ../lobby/state.ts (followed by RoomOpener); the choices come
 * from the service's vocabulary.
 */
import React, {
  useCallback,
  useEffect,
  useReducer,
  useRef,
  useState
} from 'react';

import { IMatchRequest, IQuestionCounts, IRoom, ITicket, api } from '../api';
import { formatClock, newKey } from '../format';
import {
  OpenIn,
  formProblem,
  formReducer,
  initialForm,
  requestOf,
  showRejoin
} from '../lobby/state';
import { RoomOpener } from '../lobby/watch';
import {
  elapsedSeconds,
  initialState,
  isSearching,
  isTerminal,
  lookingFor,
  orderTopics,
  reducer,
  retryRequest,
  widenRequest
} from '../matching/state';
import { TicketWatcher } from '../matching/watch';
import { notifyError, notifyInfo } from '../notify';
import { PeerPrepError } from '../request';
import { useVocabulary } from '../vocabulary';
import { LobbyForm } from './lobbyForm';

const TICKET_KEY = 'peerprep:ticket';
const OPEN_IN_KEY = 'peerprep:open-room-in';

export type { OpenIn };

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
  const vocabulary = useVocabulary();
  const [state, dispatch] = useReducer(reducer, initialState);
  const [form, change] = useReducer(formReducer, readOpenIn(), initialForm);
  const [counts, setCounts] = useState<IQuestionCounts | null>(null);
  const [activeRoom, setActiveRoom] = useState<IRoom | null>(null);
  const [roomStatus, setRoomStatus] = useState<string>('');
  const [now, setNow] = useState<number>(Date.now());
  const watcher = useRef<TicketWatcher | null>(null);
  const opened = useRef<string | null>(null);
  const { openIn } = form;
  const open = (ticket: ITicket) =>
    !vocabulary.ticket_states.terminal.includes(ticket.state);

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
      .then(list => setCounts(list.counts))
      .catch(error => notifyError(error, 'Loading the question counts'));
    api
      .profile()
      .then(profile =>
        change({
          type: 'profile',
          topics: profile.topics,
          language: profile.language
        })
      )
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
          if (open(ticket)) {
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
    if (isTerminal(state.phase)) {
      storage()?.removeItem(TICKET_KEY);
    }
    const room = state.ticket?.room;
    if (state.phase !== 'matched' || !room || opened.current === room.id) {
      return;
    }
    opened.current = room.id;
    const opener = new RoomOpener(
      room.id,
      room.url,
      {
        onStatus: setRoomStatus,
        onOpen: url => openRoom(url, readOpenIn()),
        onFailed: message => notifyError(message),
        onError: error => notifyError(error, 'Checking your room')
      },
      props.roomPollMs ?? 1000
    );
    opener.start();
    return () => opener.stop();
  }, [state.phase, state.ticket, props.roomPollMs]);

  const find = useCallback(
    async (request: IMatchRequest) => {
      const problem = formProblem({ ...form, topics: request.topics });
      if (problem) {
        notifyError(problem);
        return;
      }
      const key = newKey();
      dispatch({ type: 'submit', request, key, now: Date.now() });
      try {
        const ticket = await api.match(request, key);
        dispatch({ type: 'submitted', ticket, now: Date.now() });
        if (open(ticket)) {
          follow(ticket.id);
        }
      } catch (error) {
        const ticket: ITicket | undefined =
          error instanceof PeerPrepError ? error.body?.ticket : undefined;
        if (ticket && open(ticket)) {
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
    [follow, form, vocabulary]
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

  const chooseOpenIn = (value: OpenIn) => {
    change({ type: 'open_in', openIn: value });
    storage()?.setItem(OPEN_IN_KEY, value);
  };

  const visibleTopics = orderTopics(counts, vocabulary.topics);

  const searching = isSearching(state.phase);
  const elapsed = elapsedSeconds(state, Math.max(now, state.now));
  const room = state.ticket?.room ?? null;

  return (
    <div className="jp-PeerPrep-lobby">
      <div className="jp-PeerPrep-sr-only" role="status" aria-live="polite">
        {state.announcement}
      </div>
      {activeRoom && showRejoin(activeRoom, state.phase) ? (
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
                  const wider = widenRequest(
                    state.request!,
                    counts,
                    vocabulary.topics,
                    vocabulary.difficulties
                  );
                  change({ type: 'widened', request: wider });
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
        <LobbyForm
          form={form}
          change={change}
          counts={counts}
          topics={visibleTopics}
          vocabulary={vocabulary}
          onOpenIn={chooseOpenIn}
          onFind={() => void find(requestOf(form))}
        />
      ) : null}
    </div>
  );
}
