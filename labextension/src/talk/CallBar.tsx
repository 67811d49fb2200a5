/**
 * The room's talk controls, under the question in the room panel: Call / Hang up, Mute,
 * Camera, who is speaking, the connection's state and what to do when it fails, and the
 * chat's unread badge (the chat itself is docked beside the notebook, `chatDock.ts`).
 */
import React, { useEffect, useRef, useState } from 'react';

import { RoomCall } from './call';
import { ICallState, callStatus, inCall, initialCallState } from './callState';
import { ChatDock } from './chatDock';
import { IChatState, initialChatState, unread, unreadLabel } from './chatState';

export interface ITalkBarProps {
  roomId: string;
  partner: string;
  ended: boolean;
  chat: ChatDock | null;
}

export function TalkBar(props: ITalkBarProps): JSX.Element {
  const { roomId, partner, ended, chat } = props;
  const [call, setCall] = useState<ICallState>(initialCallState);
  const [chatState, setChatState] = useState<IChatState>(initialChatState);
  const [chatPath, setChatPath] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const callRef = useRef<RoomCall | null>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const remoteVideo = useRef<HTMLVideoElement>(null);
  const localVideo = useRef<HTMLVideoElement>(null);

  // One call object per room: listens for the partner at once (an incoming call shows).
  useEffect(() => {
    const roomCall = new RoomCall(roomId, setCall);
    callRef.current = roomCall;
    roomCall
      .open()
      .then(info => {
        setChatPath(info.chat_path);
        void chat?.open(info.chat_path);
      })
      .catch(error => {
        setProblem(
          `The call and chat could not be set up: ${error?.message ?? error}`
        );
      });
    return () => roomCall.end();
  }, [roomId]);

  useEffect(() => (chat ? chat.subscribe(setChatState) : undefined), [chat]);

  // Ending the session ends the call and closes the chat, for both students.
  useEffect(() => {
    if (ended) {
      callRef.current?.end();
      chat?.close();
    }
  }, [ended]);

  // Hand the media elements to the call whenever they (re)appear.
  useEffect(() => {
    const c = callRef.current;
    if (c) {
      c.view = {
        remoteAudio: audio.current,
        remoteVideo: remoteVideo.current,
        localVideo: localVideo.current
      };
      c.attach();
    }
  });

  const active = inCall(call);
  const count = unread(chatState);
  const phaseClass = `jp-PeerPrep-call-${call.phase}`;

  return (
    <section
      className={`jp-PeerPrep-talk ${phaseClass}`}
      aria-label="Call and chat"
      data-testid="peerprep-talk"
    >
      <h3>Talk</h3>
      <p
        role="status"
        aria-live="polite"
        data-testid="peerprep-call-status"
        data-call-phase={call.phase}
      >
        {callStatus(call, partner)}
      </p>
      {call.error || problem ? (
        <p
          className="jp-PeerPrep-error"
          role="alert"
          data-testid="peerprep-call-error"
        >
          {call.error || problem}
        </p>
      ) : null}
      {call.notice ? (
        <p className="jp-PeerPrep-muted" data-testid="peerprep-call-notice">
          {call.notice}
        </p>
      ) : null}
      <div className="jp-PeerPrep-buttons">
        {active ? (
          <button
            className="jp-mod-styled jp-mod-warn"
            onClick={() => callRef.current?.hangUp()}
            data-testid="peerprep-hangup"
          >
            Hang up
          </button>
        ) : (
          <button
            className="jp-mod-styled jp-mod-accept"
            onClick={() => void callRef.current?.start()}
            disabled={ended || call.phase === 'starting'}
            data-testid="peerprep-call"
            title="Talk with your partner (microphone on; camera optional)"
          >
            {call.partnerInCall ? 'Join call' : 'Call'}
          </button>
        )}
        <button
          className="jp-mod-styled"
          onClick={() => callRef.current?.setMuted(!call.muted)}
          disabled={!active}
          aria-pressed={call.muted}
          data-testid="peerprep-mute"
        >
          {call.muted ? 'Unmute' : 'Mute'}
        </button>
        <button
          className="jp-mod-styled"
          onClick={() => void callRef.current?.setCamera(!call.camera)}
          disabled={!active}
          aria-pressed={call.camera}
          data-testid="peerprep-camera"
        >
          {call.camera ? 'Camera off' : 'Camera on'}
        </button>
        <button
          className="jp-mod-styled"
          onClick={() => chatPath && chat?.reveal(chatPath)}
          disabled={!chatPath || ended}
          data-testid="peerprep-chat-button"
          aria-label={count ? `Chat, ${unreadLabel(chatState)}` : 'Chat'}
        >
          Chat
          {count ? (
            <span
              className="jp-PeerPrep-badge"
              data-testid="peerprep-chat-unread"
              aria-hidden="true"
            >
              {count}
            </span>
          ) : null}
        </button>
      </div>
      {active ? (
        <ul className="jp-PeerPrep-speakers" aria-label="Who is speaking">
          <li data-speaking={call.meSpeaking ? 'yes' : 'no'}>
            <span className="jp-PeerPrep-speaking-dot" aria-hidden="true" />
            You{call.muted ? ' (muted)' : call.meSpeaking ? ' (speaking)' : ''}
          </li>
          <li
            data-speaking={call.partnerSpeaking ? 'yes' : 'no'}
            data-testid="peerprep-partner-speaking"
          >
            <span className="jp-PeerPrep-speaking-dot" aria-hidden="true" />
            {partner}
            {call.partnerMuted
              ? ' (muted)'
              : call.partnerSpeaking
                ? ' (speaking)'
                : ''}
          </li>
        </ul>
      ) : null}
      <audio ref={audio} autoPlay hidden data-testid="peerprep-call-audio" />
      {active && (call.camera || call.partnerCamera) ? (
        <div className="jp-PeerPrep-videos">
          {call.partnerCamera ? (
            <video
              ref={remoteVideo}
              autoPlay
              playsInline
              aria-label={`${partner}'s camera`}
            >
              <track kind="captions" />
            </video>
          ) : null}
          {call.camera ? (
            <video
              ref={localVideo}
              autoPlay
              playsInline
              muted
              aria-label="Your camera"
            >
              <track kind="captions" />
            </video>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
