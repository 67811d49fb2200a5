/**
 * The room chat docked beside the notebook: opened (split right of the question notebook)
 * when the room panel loads, its unread count kept while it is hidden, closed when the
 * session ends. The chat itself is jupyterlab-chat's widget on the room's `.chat` document.
 */
import { ILabShell, JupyterFrontEnd } from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';

import {
  ChatEvent,
  IChatState,
  chatReducer,
  initialChatState
} from './chatState';

type Listener = (state: IChatState) => void;

/** jupyterlab-chat's model as far as PeerPrep reads it (duck-typed: no hard dependency). */
interface IChatModelLike {
  messages?: unknown[];
}

function pathOf(widget: Widget): string {
  return ((widget as any).context?.path as string | undefined) ?? '';
}

export class ChatDock {
  state: IChatState = initialChatState;
  private widget: Widget | null = null;
  private timer: number | null = null;
  private listeners = new Set<Listener>();

  constructor(
    private app: JupyterFrontEnd,
    private shell: ILabShell
  ) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  private dispatch(event: ChatEvent): void {
    const next = chatReducer(this.state, event);
    if (
      next.total !== this.state.total ||
      next.seen !== this.state.seen ||
      next.visible !== this.state.visible ||
      next.closed !== this.state.closed
    ) {
      this.state = next;
      this.listeners.forEach(l => l(next));
    }
  }

  private notebook(): Widget | null {
    for (const w of this.shell.widgets('main')) {
      if (pathOf(w).endsWith('.ipynb')) {
        return w;
      }
    }
    return null;
  }

  /** Open the chat at `path` docked right of the notebook (waits a little for it). */
  async open(path: string): Promise<void> {
    if (this.state.closed) {
      return;
    }
    await this.app.restored;
    let ref = this.notebook();
    for (let i = 0; !ref && i < 20; i++) {
      await new Promise(resolve => setTimeout(resolve, 250));
      ref = this.notebook();
    }
    const widget = (await this.app.commands.execute('docmanager:open', {
      path,
      options: { mode: 'split-right', ref: ref?.id ?? null, activate: false }
    })) as Widget | undefined;
    if (!widget) {
      return;
    }
    this.widget = widget;
    widget.title.caption = 'Chat with your partner (saved with the attempt)';
    this.watch();
  }

  private watch(): void {
    if (this.timer !== null) {
      return;
    }
    // Twice a second: how many messages, is the chat on screen. Cheaper and sturdier than
    // following every signal of a widget another extension owns.
    this.timer = window.setInterval(() => this.check(), 500);
    this.check();
  }

  private check(): void {
    const widget = this.widget;
    if (!widget || widget.isDisposed) {
      return;
    }
    const model = (widget as any).context?.model as IChatModelLike | undefined;
    const total = Array.isArray(model?.messages) ? model!.messages!.length : 0;
    this.dispatch({ type: 'messages', total });
    this.dispatch({ type: 'visible', visible: widget.isVisible });
  }

  /** Bring the chat to the front (opening it again if it was closed). */
  reveal(path: string): void {
    if (this.widget && !this.widget.isDisposed) {
      this.shell.activateById(this.widget.id);
      return;
    }
    void this.open(path).then(() => {
      if (this.widget) {
        this.shell.activateById(this.widget.id);
      }
    });
  }

  /** The session ended: the chat closes for good (its transcript is in history). */
  close(): void {
    if (this.timer !== null) {
      window.clearInterval(this.timer);
      this.timer = null;
    }
    this.dispatch({ type: 'closed' });
    if (this.widget && !this.widget.isDisposed) {
      this.widget.dispose();
    }
    this.widget = null;
  }
}
