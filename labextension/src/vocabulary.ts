/**
 * The service's fixed words (`GET api/vocabulary`): difficulties, topics, languages,
 * proficiencies and which ticket and room states are final. Read once per page and shared by
 * every screen; until it arrives (or if it cannot be read) the defaults below stand in, which
 * match jupyter_peerprep/questions/vocabulary.py and hub/models.py at the time of writing.
 */
import { useEffect, useState } from 'react';

import {
  DIFFICULTIES,
  Difficulty,
  PROFICIENCIES,
  Proficiency,
  TOPICS
} from './api';
import { requestAPI } from './request';

export interface IVocabulary {
  difficulties: Difficulty[];
  topics: string[];
  languages: string[];
  proficiencies: Proficiency[];
  ticket_states: { all: string[]; terminal: string[] };
  /** over: the session is over for the students; terminal: the room never changes again. */
  room_states: { all: string[]; over: string[]; terminal: string[] };
  run_kinds: string[];
}

export const DEFAULT_VOCABULARY: IVocabulary = {
  difficulties: [...DIFFICULTIES],
  topics: [...TOPICS],
  languages: ['python'],
  proficiencies: [...PROFICIENCIES],
  ticket_states: {
    all: ['waiting', 'matched', 'cancelled', 'timed_out', 'relaxed'],
    terminal: ['matched', 'timed_out', 'cancelled']
  },
  room_states: {
    all: ['starting', 'active', 'ending', 'ended', 'failed'],
    over: ['ending', 'ended'],
    terminal: ['ended', 'failed']
  },
  run_kinds: ['run', 'submit']
};

/** The service's answer over the defaults: a list it leaves out or sends empty keeps ours. */
export function mergeVocabulary(
  answer: Partial<IVocabulary> | null | undefined
): IVocabulary {
  const d = DEFAULT_VOCABULARY;
  if (!answer) {
    return d;
  }
  const list = <T>(value: T[] | undefined, fallback: T[]): T[] =>
    Array.isArray(value) && value.length ? value : fallback;
  return {
    difficulties: list(answer.difficulties, d.difficulties),
    topics: list(answer.topics, d.topics),
    languages: list(answer.languages, d.languages),
    proficiencies: list(answer.proficiencies, d.proficiencies),
    ticket_states: {
      all: list(answer.ticket_states?.all, d.ticket_states.all),
      terminal: list(answer.ticket_states?.terminal, d.ticket_states.terminal)
    },
    room_states: {
      all: list(answer.room_states?.all, d.room_states.all),
      over: list(answer.room_states?.over, d.room_states.over),
      terminal: list(answer.room_states?.terminal, d.room_states.terminal)
    },
    run_kinds: list(answer.run_kinds, d.run_kinds)
  };
}

let loading: Promise<IVocabulary> | null = null;
let loaded: IVocabulary = DEFAULT_VOCABULARY;

/** The vocabulary, asked of the service once per page; the defaults if that fails. */
export function loadVocabulary(): Promise<IVocabulary> {
  if (!loading) {
    loading = requestAPI<Partial<IVocabulary>>('vocabulary')
      .then(answer => (loaded = mergeVocabulary(answer)))
      .catch(error => {
        console.warn('PeerPrep: vocabulary unavailable, using defaults', error);
        return DEFAULT_VOCABULARY;
      });
  }
  return loading;
}

/** For components: the defaults at first, the service's words once they arrive. */
export function useVocabulary(): IVocabulary {
  const [vocabulary, setVocabulary] = useState<IVocabulary>(loaded);
  useEffect(() => {
    let live = true;
    void loadVocabulary().then(v => live && setVocabulary(v));
    return () => {
      live = false;
    };
  }, []);
  return vocabulary;
}
