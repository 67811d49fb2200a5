import { SSEParser, parseSSE } from '../sse';

describe('SSE parser', () => {
  it('parses the events the matching stream sends', () => {
    const text =
      'event: waiting\ndata: {"id": "t1", "state": "waiting"}\n\n' +
      'event: matched\ndata: {"id": "t1", "state": "matched"}\n\n';
    const events = parseSSE(text);
    expect(events.map(e => e.event)).toEqual(['waiting', 'matched']);
    expect(JSON.parse(events[1].data).state).toBe('matched');
  });

  it('handles chunks split anywhere, even inside a CRLF', () => {
    const text =
      'event: relaxed\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: x\r\ndata: 2\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SSEParser();
      const events = [
        ...parser.push(text.slice(0, cut)),
        ...parser.push(text.slice(cut)),
        ...parser.end()
      ];
      expect(events).toEqual([
        { event: 'relaxed', data: '{"a":\n1}' },
        { event: 'x', data: '2' }
      ]);
    }
  });

  it('byte by byte gives the same events as all at once', () => {
    const text =
      'id: 7\nevent: waiting\ndata: one\n\n: keep-alive\n\ndata:two\n\n';
    const parser = new SSEParser();
    const events = [];
    for (const ch of text) {
      events.push(...parser.push(ch));
    }
    expect(events).toEqual(parseSSE(text));
    expect(events).toEqual([
      { event: 'waiting', data: 'one', id: '7' },
      { event: 'message', data: 'two', id: '7' }
    ]);
  });

  it('ignores comments, empty blocks and unknown fields', () => {
    expect(parseSSE(': hello\n\nretry: 100\nfoo: bar\n\n')).toEqual([]);
  });

  it('drops an event the stream cut off before its blank line', () => {
    const parser = new SSEParser();
    expect(parser.push('event: matched\ndata: {"id"')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });

  it('accepts bare CR line ends', () => {
    expect(parseSSE('event: a\rdata: b\r\r')).toEqual([
      { event: 'a', data: 'b' }
    ]);
  });
});
