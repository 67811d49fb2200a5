/**
 * Follow a ticket: the server-sent event stream `GET /api/match/{id}/events` read with `fetch`
 * (ServerConnection adds JupyterLab's XSRF header and cookies; EventSource cannot), and polling
 * `GET /api/match/{id}` every 2 s when the stream fails or ends before the ticket is final.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { ITicket, api } from '../api';
import { errorMessage } from '../request';
import { SSEParser } from '../sse';
import { Transport } from './state';

const FINAL = ['matched', 'timed_out', 'cancelled'];

export interface IWatchCallbacks {
  onTicket: (ticket: ITicket) => void;
  onTransport: (transport: Transport) => void;
  /** A failure worth telling the student about (once per streak of failures). */
  onError: (message: string) => void;
}

export class TicketWatcher {
  constructor(
    readonly ticketId: string,
    private callbacks: IWatchCallbacks,
    private pollInterval = 2000,
    private settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  start(): void {
    void this.stream();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private deliver(ticket: ITicket): void {
    if (this.stopped) {
      return;
    }
    this.callbacks.onTicket(ticket);
    if (FINAL.includes(ticket.state)) {
      this.finished = true;
      this.stop();
    }
  }

  private async stream(): Promise<void> {
    const url = URLExt.join(
      this.settings.baseUrl,
      'peerprep',
      'api',
      'match',
      encodeURIComponent(this.ticketId),
      'events'
    );
    try {
      const response = await ServerConnection.makeRequest(
        url,
        { headers: { Accept: 'text/event-stream' }, signal: this.abort.signal },
        this.settings
      );
      if (!response.ok || !response.body) {
        const body = await response.text().catch(() => '');
        throw new Error(errorMessage(response.status, body));
      }
      this.callbacks.onTransport('stream');
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SSEParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          parser.end();
          break;
        }
        for (const event of parser.push(
          decoder.decode(value, { stream: true })
        )) {
          this.handle(event.data);
        }
        if (this.stopped) {
          return;
        }
      }
    } catch (error) {
      if (this.stopped) {
        return;
      }
      console.warn(
        'PeerPrep: match event stream failed, polling instead:',
        error
      );
    }
    if (!this.stopped && !this.finished) {
      this.callbacks.onTransport('polling');
      this.poll();
    }
  }

  private handle(data: string): void {
    try {
      const ticket = JSON.parse(data) as ITicket;
      if (ticket && ticket.id === this.ticketId) {
        this.deliver(ticket);
      }
    } catch (error) {
      console.warn('PeerPrep: unreadable match event', data, error);
    }
  }

  private poll = (): void => {
    if (this.stopped) {
      return;
    }
    api
      .ticket(this.ticketId)
      .then(ticket => {
        this.failures = 0;
        this.deliver(ticket);
      })
      .catch(error => {
        this.failures += 1;
        if (this.failures === 1) {
          this.callbacks.onError(String(error.message ?? error));
        }
      })
      .finally(() => {
        if (!this.stopped) {
          this.timer = setTimeout(this.poll, this.pollInterval);
        }
      });
  };

  private abort = new AbortController();
  private stopped = false;
  private finished = false;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
}
