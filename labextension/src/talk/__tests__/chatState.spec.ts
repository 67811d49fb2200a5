import {
  chatReducer,
  initialChatState,
  unread,
  unreadLabel
} from '../chatState';
import { transcriptMarkdown, withTranscript } from '../transcript';

describe('the chat unread badge', () => {
  it('counts messages that arrive while the chat is hidden', () => {
    let s = chatReducer(initialChatState, { type: 'visible', visible: true });
    s = chatReducer(s, { type: 'messages', total: 2 });
    expect(unread(s)).toBe(0);
    s = chatReducer(s, { type: 'visible', visible: false });
    s = chatReducer(s, { type: 'messages', total: 5 });
    expect(unread(s)).toBe(3);
    expect(unreadLabel(s)).toBe('3 unread chat messages');
  });

  it('clears when the chat comes back on screen', () => {
    let s = chatReducer(initialChatState, { type: 'messages', total: 1 });
    expect(unreadLabel(s)).toBe('1 unread chat message');
    s = chatReducer(s, { type: 'visible', visible: true });
    expect(unread(s)).toBe(0);
    expect(unreadLabel(s)).toBe('');
  });

  it('never owes more than the chat holds', () => {
    let s = chatReducer(initialChatState, { type: 'messages', total: 4 });
    s = chatReducer(s, { type: 'visible', visible: true });
    s = chatReducer(s, { type: 'visible', visible: false });
    s = chatReducer(s, { type: 'messages', total: 2 });
    expect(unread(s)).toBe(0);
  });

  it('shows nothing once the session ended', () => {
    let s = chatReducer(initialChatState, { type: 'messages', total: 4 });
    s = chatReducer(s, { type: 'closed' });
    expect(unread(s)).toBe(0);
  });
});

describe('the chat transcript in the export', () => {
  const lines = [
    {
      time: '2026-12-04T22:00:05+00:00',
      sender: 'ann',
      name: 'Ann',
      body: 'Try a hash map:\n```python\nseen = {}\n```',
      system: false
    },
    {
      time: '2026-12-04T22:01:00+00:00',
      sender: 'peerprep',
      name: 'PeerPrep',
      body: 'ann submitted: accepted, 5/5 passed.',
      system: true
    }
  ];

  it('renders who said what, code blocks kept, system lines set apart', () => {
    const md = transcriptMarkdown(lines);
    expect(md).toContain('**Ann** (22:00:05):');
    expect(md).toContain('```python\nseen = {}\n```');
    expect(md).toContain('_22:01:00 · ann submitted: accepted, 5/5 passed._');
  });

  it('appends one Markdown cell to the exported notebook', () => {
    const nb = { cells: [{ cell_type: 'code', source: 'x = 1' }], nbformat: 4 };
    const out = withTranscript(nb, lines);
    expect(out.cells).toHaveLength(2);
    expect(out.cells[1].cell_type).toBe('markdown');
    expect(out.cells[1].source).toMatch(/^## Chat transcript/);
    expect(nb.cells).toHaveLength(1); // the attempt's own notebook is not changed
    expect(withTranscript(nb, undefined)).toBe(nb);
  });
});
