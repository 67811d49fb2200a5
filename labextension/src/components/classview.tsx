/**
 * The Class tab of the PeerPrep panel (instructors): per question, per student, live rooms
 * with "Open", and a CSV export for the gradebook. State lives in `classview/state.ts`.
 */
import React, { useEffect, useReducer, useRef } from 'react';

import { api } from '../api';
import {
  ClassEvent,
  IClassState,
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

interface IFigureRow {
  key: string;
  head: string;
  title?: string;
  cells: (string | number)[];
}

/** A table of figures in the narrow panel: sortable headings, scrolls sideways if need be. */
function FigureTable<T extends string>(props: {
  testId: string;
  label: string;
  caption: string;
  /** `ascending`: names A to Z, quickest first; otherwise highest first. */
  columns: { label: string; by?: T; ascending?: boolean }[];
  rows: IFigureRow[];
  sort: T;
  onSort: (by: T) => void;
}): JSX.Element {
  return (
    <div
      className="jp-PeerPrep-table-wrap"
      tabIndex={0}
      role="region"
      aria-label={props.label}
    >
      <table className="jp-PeerPrep-table" data-testid={props.testId}>
        <caption className="jp-PeerPrep-sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map(({ label, by, ascending }) => (
              <th
                key={label}
                scope="col"
                aria-sort={
                  by && by === props.sort
                    ? ascending
                      ? 'ascending'
                      : 'descending'
                    : undefined
                }
              >
                {by ? (
                  <button
                    className="jp-PeerPrep-sort"
                    onClick={() => props.onSort(by)}
                    title={`Sort by ${label.toLowerCase()}`}
                  >
                    {label}
                  </button>
                ) : (
                  label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map(row => (
            <tr key={row.key}>
              <th scope="row" title={row.title}>
                {row.head}
              </th>
              {row.cells.map((cell, i) => (
                <td key={i}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
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
      <FigureTable
        testId="peerprep-class-questions"
        label="Questions table"
        caption="Attempts per question"
        sort={state.questionSort}
        onSort={by => dispatch({ type: 'sort_questions', by })}
        columns={[
          { label: 'Question', by: 'title', ascending: true },
          { label: 'Attempts', by: 'attempts' },
          { label: 'Passed', by: 'pass_rate' },
          { label: 'Median time', by: 'median', ascending: true },
          { label: 'Complexity' }
        ]}
        rows={sortedQuestions(state).map(q => ({
          key: q.id,
          head: q.title,
          cells: [
            q.attempts,
            passRateLabel(q.pass_rate),
            durationLabel(q.median_seconds_to_pass),
            complexityLabel(q.complexity)
          ]
        }))}
      />
      <h3>Students</h3>
      <FigureTable
        testId="peerprep-class-students"
        label="Students table"
        caption="Attempts per student"
        sort={state.studentSort}
        onSort={by => dispatch({ type: 'sort_students', by })}
        columns={[
          { label: 'Student', by: 'name', ascending: true },
          { label: 'Attempts', by: 'attempts' },
          { label: 'Passed', by: 'passed' },
          { label: 'Rating', by: 'rating' }
        ]}
        rows={sortedStudents(state).map(st => ({
          key: st.name,
          head: st.display_name || st.name,
          title: st.email || st.name,
          cells: [st.attempts, st.passed, st.rating]
        }))}
      />
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
