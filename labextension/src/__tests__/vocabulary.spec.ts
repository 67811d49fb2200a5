import { DEFAULT_VOCABULARY, mergeVocabulary } from '../vocabulary';

describe('vocabulary', () => {
  it('takes the service words over the defaults', () => {
    const v = mergeVocabulary({
      topics: ['arrays', 'quantum'],
      languages: ['python', 'julia'],
      room_states: {
        all: [],
        over: ['ending', 'ended', 'archived'],
        terminal: []
      }
    });
    expect(v.topics).toEqual(['arrays', 'quantum']);
    expect(v.languages).toEqual(['python', 'julia']);
    expect(v.room_states.over).toContain('archived');
    // Left out or empty: the defaults stand.
    expect(v.room_states.terminal).toEqual(
      DEFAULT_VOCABULARY.room_states.terminal
    );
    expect(v.difficulties).toEqual(['easy', 'medium', 'hard']);
  });

  it('falls back to the defaults without an answer', () => {
    expect(mergeVocabulary(null)).toBe(DEFAULT_VOCABULARY);
  });
});
