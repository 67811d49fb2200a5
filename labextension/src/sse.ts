/**
 * An incremental parser of server-sent events (the `text/event-stream` format of the HTML
 * standard), for streams read with `fetch` (EventSource cannot send JupyterLab's XSRF header).
 *
 * Feed it text chunks as they arrive, in any split; it returns the events completed so far.
 */

export interface ISSEEvent {
  /** The `event:` field, "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last `id:` seen, if any. */
  id?: string;
}

export class SSEParser {
  private buffer = '';
  private eventType = '';
  private dataLines: string[] = [];
  private hasData = false;
  private lastId: string | undefined = undefined;

  /** Add a chunk of the stream; return the events it completed. */
  push(chunk: string): ISSEEvent[] {
    this.buffer += chunk;
    const events: ISSEEvent[] = [];
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.buffer);
      if (!match) {
        break;
      }
      // A lone "\r" at the very end may be the first half of "\r\n": wait for more.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) {
        break;
      }
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) {
        events.push(event);
      }
    }
    return events;
  }

  /** The stream ended: a trailing "\r" is a line end; an unterminated event is dropped. */
  end(): ISSEEvent[] {
    const events = this.buffer.endsWith('\r') ? this.push('\n') : [];
    this.buffer = '';
    this.reset();
    return events;
  }

  private reset(): void {
    this.eventType = '';
    this.dataLines = [];
    this.hasData = false;
  }

  private line(line: string): ISSEEvent | null {
    if (line === '') {
      if (!this.hasData) {
        this.reset();
        return null;
      }
      const event: ISSEEvent = {
        event: this.eventType || 'message',
        data: this.dataLines.join('\n')
      };
      if (this.lastId !== undefined) {
        event.id = this.lastId;
      }
      this.reset();
      return event;
    }
    if (line.startsWith(':')) {
      return null; // a comment (keep-alive)
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.lastId = value;
        }
        break;
      default:
        break; // "retry" and unknown fields are ignored
    }
    return null;
  }
}

/** Parse a whole stream text at once (for tests and small bodies). */
export function parseSSE(text: string): ISSEEvent[] {
  const parser = new SSEParser();
  return [...parser.push(text), ...parser.end()];
}
