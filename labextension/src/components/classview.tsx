/**
 * The Class tab of the PeerPrep panel (instructors): per question, per student, live rooms
 * with "Open", and a CSV export for the gradebook. State lives in `classview/state.ts`.
 */
import React, { useEffect, useReducer, useRef } from 'react';

import { api } from '../api';
import {
  ClassEvent,
  IClassState,
  QuestionSort,
  StudentSort,
  classReducer,
  complexityLabel,
  durationLabel,
  initialClassState,
  passRateLabel,
  sortedQuestions,
  sortedStudents
} from '../classview/state';
import { ClassWatcher } from '../classview/watch';
import { requestText } from '../request';

function SortHeader<T extends string>(props: {
  label: string;
  by: T;
  current: T;
  onSort: (by: T) => void;
}): JSX.Element {
  const active = props.by === props.current;
  return (
    <th scope="col" aria-sort={active ? 'descending' : 'none'}>
      <button
        className="jp-PeerPrep-sort"
        onClick={() => props.onSort(props.by)}
        title={`Sort by ${props.label.toLowerCase()}`}
      >
        {props.label}
      </button>
    </th>
  );
}

async function exportCsv(
  dispatch: (e: ClassEvent) => void,
  students: number
): Promise<void> {
  dispatch({ type: 'export' });
  try {
    const csv = await requestText('class/export.csv');
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'peerprep-class.csv';
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    dispatch({ type: 'exported', students });
  } catch (error) {
    dispatch({
      type: 'export_failed',
      message: String((error as Error).message ?? error)
    });
  }
}

function LiveRooms(props: {
  state: IClassState;
  onOpen: (roomId: string) => void;
}): JSX.Element {
  const { state } = props;
  const live = state.view?.live ?? [];
  if (!live.length) {
    return <p className="jp-PeerPrep-muted">No room is live now.</p>;
  }
  return (
    <ul className="jp-PeerPrep-live" aria-label="Live rooms">
      {live.map(room => (
        <li key={room.id} data-testid="peerprep-class-live-room">
          <span>
            {room.title} · {room.members.join(' & ')}
            {room.observers.length
              ? ` · opened by ${room.observers.join(', ')}`
              : ''}
          </span>{' '}
          {state.opened[room.id] ? (
            <a
              href={state.opened[room.id]}
              target="_blank"
              rel="noopener noreferrer"
              data-testid="peerprep-class-enter-room"
            >
              Enter room {room.members.join(' & ')}
            </a>
          ) : (
            <button
              className="jp-PeerPrep-button"
              disabled={state.opening !== null}
              onClick={() => props.onOpen(room.id)}
              data-testid="peerprep-class-open-room"
            >
              {state.opening === room.id
                ? 'Opening…'
                : `Open room of ${room.members.join(' & ')}`}
            </button>
          )}
          {state.roomErrors[room.id] ? (
            <span className="jp-PeerPrep-error" role="alert">
              {' '}
              {state.roomErrors[room.id]}
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

export function ClassView(props: { visible: boolean }): JSX.Element {
  const [state, dispatch] = useReducer(classReducer, initialClassState);
  const watcher = useRef<ClassWatcher | null>(null);

  useEffect(() => {
    if (!props.visible) {
      return;
    }
    const w = new ClassWatcher({
      onView: view => dispatch({ type: 'loaded', view, now: Date.now() }),
      onError: message => dispatch({ type: 'load_failed', message })
    });
    watcher.current = w;
    w.start();
    return () => w.stop();
  }, [props.visible]);

  const open = (roomId: string) => {
    dispatch({ type: 'open', roomId });
    api
      .openRoom(roomId)
      .then(answer => {
        dispatch({ type: 'opened', roomId, url: answer.url });
        watcher.current?.refresh();
      })
      .catch(error =>
        dispatch({
          type: 'open_failed',
          roomId,
          message: String(error.message ?? error)
        })
      );
  };

  if (state.phase === 'loading') {
    return <p>Loading the class view…</p>;
  }
  if (state.phase === 'error' || !state.view) {
    return (
      <p className="jp-PeerPrep-error" role="alert">
        {state.error}
      </p>
    );
  }
  const view = state.view;
  const sortQ = (by: QuestionSort) => dispatch({ type: 'sort_questions', by });
  const sortS = (by: StudentSort) => dispatch({ type: 'sort_students', by });
  return (
    <div className="jp-PeerPrep-classview" data-testid="peerprep-classview">
      <div className="jp-PeerPrep-sr-only" role="status" aria-live="polite">
        {state.announcement}
      </div>
      <p className="jp-PeerPrep-muted">
        {view.courses.length
          ? `Course ${view.courses.map(c => c.replace(/^course-/, '')).join(', ')}`
          : 'All students'}{' '}
        · {view.students.length} students
        {state.stale ? ` · not refreshed: ${state.stale}` : ''}
      </p>
      <h3>Live rooms</h3>
      <LiveRooms state={state} onOpen={open} />
      <h3>Questions</h3>
      <div
        className="jp-PeerPrep-table-wrap"
        tabIndex={0}
        role="region"
        aria-label="Questions table"
      >
        <table
          className="jp-PeerPrep-table"
          data-testid="peerprep-class-questions"
        >
          <caption className="jp-PeerPrep-sr-only">
            Attempts per question
          </caption>
          <thead>
            <tr>
              <SortHeader
                label="Question"
                by="title"
                current={state.questionSort}
                onSort={sortQ}
              />
              <SortHeader
                label="Attempts"
                by="attempts"
                current={state.questionSort}
                onSort={sortQ}
              />
              <SortHeader
                label="Passed"
                by="pass_rate"
                current={state.questionSort}
                onSort={sortQ}
              />
              <SortHeader
                label="Median time"
                by="median"
                current={state.questionSort}
                onSort={sortQ}
              />
              <th scope="col">Complexity</th>
            </tr>
          </thead>
          <tbody>
            {sortedQuestions(state).map(q => (
              <tr key={q.id}>
                <th scope="row">{q.title}</th>
                <td>{q.attempts}</td>
                <td>{passRateLabel(q.pass_rate)}</td>
                <td>{durationLabel(q.median_seconds_to_pass)}</td>
                <td>{complexityLabel(q.complexity)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>Students</h3>
      <div
        className="jp-PeerPrep-table-wrap"
        tabIndex={0}
        role="region"
        aria-label="Students table"
      >
        <table
          className="jp-PeerPrep-table"
          data-testid="peerprep-class-students"
        >
          <caption className="jp-PeerPrep-sr-only">
            Attempts per student
          </caption>
          <thead>
            <tr>
              <SortHeader
                label="Student"
                by="name"
                current={state.studentSort}
                onSort={sortS}
              />
              <SortHeader
                label="Attempts"
                by="attempts"
                current={state.studentSort}
                onSort={sortS}
              />
              <SortHeader
                label="Passed"
                by="passed"
                current={state.studentSort}
                onSort={sortS}
              />
              <SortHeader
                label="Rating"
                by="rating"
                current={state.studentSort}
                onSort={sortS}
              />
            </tr>
          </thead>
          <tbody>
            {sortedStudents(state).map(s => (
              <tr key={s.name}>
                <th scope="row" title={s.email || s.name}>
                  {s.display_name || s.name}
                </th>
                <td>{s.attempts}</td>
                <td>{s.passed}</td>
                <td>{s.rating}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>
        <button
          className="jp-PeerPrep-button"
          disabled={state.exporting}
          onClick={() => void exportCsv(dispatch, view.students.length)}
          data-testid="peerprep-class-export"
        >
          {state.exporting ? 'Exporting…' : 'Export CSV for the gradebook'}
        </button>
      </p>
      {state.error ? (
        <p className="jp-PeerPrep-error" role="alert">
          {state.error}
        </p>
      ) : null}
    </div>
  );
}
