/** The room's talk endpoints (through this server's relay, like every PeerPrep call). */
import { requestAPI } from '../request';

export interface ITalkInfo {
  rtc: RTCConfiguration;
  me: string;
  partner: string;
  chat_path: string;
}

export type SignalPayload =
  | { type: 'hello'; reply?: boolean }
  | { type: 'offer' | 'answer'; sdp: RTCSessionDescriptionInit }
  | { type: 'candidate'; candidate: RTCIceCandidateInit }
  | { type: 'bye' }
  | { type: 'media'; muted?: boolean; camera?: boolean };

export interface ISignal {
  id: number;
  from: string;
  payload: SignalPayload;
}

const enc = encodeURIComponent;

export const talkApi = {
  info: (room: string) => requestAPI<ITalkInfo>(`rooms/${enc(room)}/talk`),
  send: (room: string, payload: SignalPayload) =>
    requestAPI<{ id: number }>(`rooms/${enc(room)}/signal`, {
      method: 'POST',
      body: JSON.stringify({ payload }),
      headers: { 'Content-Type': 'application/json' }
    }),
  receive: (room: string, after: number) =>
    requestAPI<{ messages: ISignal[] }>(
      `rooms/${enc(room)}/signal?after=${after}`
    )
};
