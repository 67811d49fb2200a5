/**
 * The room call's signalling, with the service replaced by a fake mailbox (no browser media
 * needed for these): a partner's Mute reaches this side's state and status line, and this
 * side's messages go out one after the other, in order.
 */
import { callStatus } from '../callState';
import { ISignal, SignalPayload } from '../talkApi';

jest.mock('../../request', () => ({
  PeerPrepError: class extends Error {
    constructor(
      readonly status: number,
      message: string
    ) {
      super(message);
    }
  }
}));

const sent: SignalPayload[] = [];
const inbox: ISignal[][] = [];
let release: (() => void) | null = null;

jest.mock('../talkApi', () => ({
  talkApi: {
    info: async () => ({
      rtc: {},
      me: 'ann',
      partner: 'ben',
      chat_path: 'q.chat'
    }),
    // The first POST is stored only when the test releases it.
    send: (_room: string, payload: SignalPayload) =>
      new Promise(resolve => {
        const store = () => {
          sent.push(payload);
          resolve({ id: sent.length });
        };
        if (sent.length === 0 && release === null) {
          release = store;
        } else {
          store();
        }
      }),
    receive: async () => {
      const messages = inbox.shift();
      if (messages) {
        return { messages };
      }
      return new Promise(() => undefined); // a long poll with nothing new
    }
  }
}));

import { RoomCall } from '../call';

// Node has no WebRTC; these tests never open media, they only need the type to exist.
(globalThis as any).MediaStream ??= class {};

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('the room call signalling', () => {
  it("shows the partner's mute, sent in order after earlier messages", async () => {
    const call = new RoomCall('r1', () => undefined);
    call.state = { ...call.state, phase: 'connected', partnerInCall: true };
    await call.open();

    // Ann presses Mute, then Unmute; the first POST is slow to be stored.
    call.setMuted(true);
    call.setMuted(false);
    await flush();
    expect(sent).toEqual([]); // the second waits for the first
    release!();
    await flush();
    await flush();
    expect(sent).toEqual([
      { type: 'media', muted: true },
      { type: 'media', muted: false }
    ]);

    // Ben mutes: his message arrives through the long poll and Ann's view says so.
    const seen = new RoomCall('r1', () => undefined);
    seen.state = { ...seen.state, phase: 'connected', partnerInCall: true };
    inbox.push([
      { id: 7, from: 'ben', payload: { type: 'media', muted: true } }
    ]);
    await seen.open();
    await flush();
    expect(seen.state.partnerMuted).toBe(true);
    expect(callStatus(seen.state, 'Ben')).toBe(
      'In a call with Ben (Ben is muted).'
    );
    call.end();
    seen.end();
  });
});
