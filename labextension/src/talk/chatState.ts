/**
 * The unread count of the room chat: messages that arrived while the chat was not on screen.
 * `chatDock.ts` feeds it the chat's message count and visibility; the call bar shows the
 * badge. Pure, so jest tests it.
 */

export interface IChatState {
  /** Messages in the chat now. */
  total: number;
  /** Messages there were when the student last had the chat on screen. */
  seen: number;
  visible: boolean;
  /** The chat is gone (the session ended). */
  closed: boolean;
}

export type ChatEvent =
  | { type: 'messages'; total: number }
  | { type: 'visible'; visible: boolean }
  | { type: 'closed' };

export const initialChatState: IChatState = {
  total: 0,
  seen: 0,
  visible: false,
  closed: false
};

export function chatReducer(state: IChatState, event: ChatEvent): IChatState {
  switch (event.type) {
    case 'messages': {
      const total = Math.max(0, event.total);
      // A chat read on screen is read; a shorter chat (deleted messages) cannot owe more.
      const seen = state.visible ? total : Math.min(state.seen, total);
      return { ...state, total, seen };
    }
    case 'visible':
      return {
        ...state,
        visible: event.visible,
        seen: event.visible ? state.total : state.seen
      };
    case 'closed':
      return { ...state, closed: true, visible: false, seen: state.total };
  }
  return state;
}

export function unread(state: IChatState): number {
  return state.closed ? 0 : Math.max(0, state.total - state.seen);
}

/** The badge's accessible label ("" when there is nothing unread). */
export function unreadLabel(state: IChatState): string {
  const n = unread(state);
  if (n === 0) {
    return '';
  }
  return n === 1 ? '1 unread chat message' : `${n} unread chat messages`;
}
