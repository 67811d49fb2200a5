/**
 * The lobby's form: difficulty (with question counts), topic chips, language, where to open
 * the room, and "Find a partner". Its state is ../lobby/state.ts (formReducer); the choices are
 * the service's vocabulary.
 */
import React from 'react';

import { IQuestionCounts } from '../api';
import {
  FormEvent,
  ILobbyForm,
  OpenIn,
  formProblem,
  topicCount,
  topicTitle
} from '../lobby/state';
import { IVocabulary } from '../vocabulary';

export interface ILobbyFormProps {
  form: ILobbyForm;
  change: (event: FormEvent) => void;
  counts: IQuestionCounts | null;
  /** The topic chips, in the order shown. */
  topics: string[];
  vocabulary: IVocabulary;
  onOpenIn: (openIn: OpenIn) => void;
  onFind: () => void;
}

export function LobbyForm(props: ILobbyFormProps): JSX.Element {
  const { form, change, counts, topics, vocabulary, onOpenIn, onFind } = props;
  const { difficulty, language, openIn } = form;
  return (
    <form
      className="jp-PeerPrep-form"
      onSubmit={e => {
        e.preventDefault();
        onFind();
      }}
    >
      <fieldset>
        <legend>Difficulty</legend>
        <div className="jp-PeerPrep-choices">
          {vocabulary.difficulties.map(d => (
            <label key={d} className="jp-PeerPrep-choice">
              <input
                type="radio"
                name="peerprep-difficulty"
                value={d}
                checked={difficulty === d}
                onChange={() => change({ type: 'difficulty', difficulty: d })}
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
          {topics.map(t => {
            const n = topicCount(counts, difficulty, t);
            const checked = form.topics.includes(t);
            return (
              <label
                key={t}
                className={
                  'jp-PeerPrep-chip' +
                  (checked ? ' jp-mod-selected' : '') +
                  (n === 0 ? ' jp-PeerPrep-chip-empty' : '')
                }
                title={topicTitle(n, difficulty, t)}
              >
                <input
                  type="checkbox"
                  checked={checked}
                  onChange={() => change({ type: 'toggle_topic', topic: t })}
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
          onChange={e => change({ type: 'language', language: e.target.value })}
          data-testid="peerprep-language"
        >
          {vocabulary.languages.map(l => (
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
          onChange={e => onOpenIn(e.target.value as OpenIn)}
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
        disabled={!!formProblem(form)}
        aria-label="Find a partner"
      >
        Find a partner
      </button>
      {formProblem(form) ? (
        <p className="jp-PeerPrep-muted">{formProblem(form)}</p>
      ) : null}
    </form>
  );
}
