/**
 * The room call: one RTCPeerConnection between the two students' browsers, set up through
 * PeerPrep's signalling (`talkApi.ts`); media flows peer to peer (or through the campus TURN
 * relay), never through the hub.
 *
 * Who offers: of the two hub names, the greater one. A student pressing Call sends "hello";
 * the offerer answers any hello with an offer, the other side answers a hello with a hello
 * (once) so a partner who joined first learns of them. Both sides create one audio and one
 * video transceiver, so the camera goes on and off with `replaceTrack` and never needs a
 * second negotiation. Every change of state goes through `callReducer`.
 */
import { PeerPrepError } from '../request';
import {
  CallEvent,
  ICallState,
  callReducer,
  initialCallState
} from './callState';
import { ISignal, ITalkInfo, SignalPayload, talkApi } from './talkApi';

export interface ICallView {
  /** Where the partner's audio plays and their video shows. */
  remoteAudio: HTMLAudioElement | null;
  remoteVideo: HTMLVideoElement | null;
  localVideo: HTMLVideoElement | null;
}

/** Level above which a voice counts as speaking (RMS of the waveform, 0..1). */
const SPEAKING_LEVEL = 0.01;
/** How long the indicator stays lit after the last loud moment. */
const SPEAKING_HOLD_MS = 600;

export class RoomCall {
  state: ICallState = initialCallState;
  info: ITalkInfo | null = null;
  pc: RTCPeerConnection | null = null;
  private local: MediaStream | null = null;
  private cameraTrack: MediaStreamTrack | null = null;
  private remote = new MediaStream();
  private after = 0;
  private polling = false;
  private stopped = false;
  private pendingCandidates: RTCIceCandidateInit[] = [];
  private outbox: Promise<unknown> = Promise.resolve();
  private audioContext: AudioContext | null = null;
  private meters: number[] = [];
  view: ICallView = { remoteAudio: null, remoteVideo: null, localVideo: null };

  constructor(
    readonly roomId: string,
    private onChange: (state: ICallState) => void
  ) {}

  get offerer(): boolean {
    return !!this.info && this.info.me > this.info.partner;
  }

  private dispatch(event: CallEvent): void {
    const next = callReducer(this.state, event);
    if (next !== this.state) {
      this.state = next;
      this.onChange(next);
    }
  }

  /** Learn the call's configuration and listen for the partner's messages. */
  async open(): Promise<ITalkInfo> {
    this.info = await talkApi.info(this.roomId);
    void this.listen();
    return this.info;
  }

  private async listen(): Promise<void> {
    if (this.polling) {
      return;
    }
    this.polling = true;
    let failures = 0;
    while (!this.stopped) {
      try {
        const answer = await talkApi.receive(this.roomId, this.after);
        failures = 0;
        for (const message of answer.messages) {
          this.after = Math.max(this.after, message.id);
          await this.handle(message).catch(error =>
            console.warn('PeerPrep call: a signalling message failed', error)
          );
        }
      } catch (error) {
        if (
          error instanceof PeerPrepError &&
          [403, 404, 409].includes(error.status)
        ) {
          this.end();
          break;
        }
        failures += 1;
        await new Promise(resolve =>
          setTimeout(resolve, Math.min(5000, 250 * 2 ** failures))
        );
      }
    }
    this.polling = false;
  }

  /** Send to the partner, one message after the other: each POST starts when the previous
   * one was stored, so the partner reads them in the order they were sent (a message stored
   * late under an earlier id would fall behind the partner's read position and be lost). */
  private send(payload: SignalPayload): Promise<unknown> {
    this.outbox = this.outbox.then(() =>
      talkApi.send(this.roomId, payload).catch(error => {
        console.warn('PeerPrep call: signalling failed', error);
      })
    );
    return this.outbox;
  }

  private async handle(message: ISignal): Promise<void> {
    const p = message.payload;
    switch (p.type) {
      case 'hello':
        this.dispatch({ type: 'partner-joined' });
        if (!this.pc) {
          return;
        }
        if (!p.reply && this.pc.connectionState !== 'new') {
          // The partner started afresh (a reload, a new Call): so does this side.
          this.resetConnection();
        }
        if (this.offerer) {
          await this.makeOffer();
        } else if (!p.reply) {
          await this.send({ type: 'hello', reply: true });
        }
        return;
      case 'offer':
        if (!this.pc) {
          return;
        }
        await this.acceptOffer(p.sdp);
        return;
      case 'answer':
        if (this.pc && this.pc.signalingState === 'have-local-offer') {
          await this.pc.setRemoteDescription(p.sdp);
          await this.flushCandidates();
        }
        return;
      case 'candidate':
        if (!this.pc) {
          return;
        }
        if (this.pc.remoteDescription) {
          await this.pc.addIceCandidate(p.candidate);
        } else {
          this.pendingCandidates.push(p.candidate);
        }
        return;
      case 'media':
        this.dispatch({
          type: 'partner-media',
          muted: p.muted,
          camera: p.camera
        });
        return;
      case 'bye':
        this.dispatch({ type: 'partner-left' });
        if (this.pc) {
          this.resetConnection();
        }
        return;
    }
  }

  private async flushCandidates(): Promise<void> {
    const queued = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of queued) {
      await this.pc?.addIceCandidate(candidate);
    }
  }

  /** Press Call: open the microphone, create the connection, tell the partner. */
  async start(): Promise<void> {
    this.dispatch({ type: 'start' });
    if (this.state.phase !== 'starting') {
      return;
    }
    try {
      if (!this.info) {
        await this.open();
      }
      this.local = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: false
      });
    } catch (error) {
      const name =
        error instanceof PeerPrepError
          ? `${error.message}`
          : (error as Error)?.name || 'Error';
      this.dispatch({ type: 'media-error', name });
      return;
    }
    this.dispatch({ type: 'media-ok' });
    this.createConnection();
    this.meter(this.local, 'me');
    await this.send({ type: 'hello' });
  }

  private createConnection(): void {
    const pc = new RTCPeerConnection(this.info?.rtc);
    this.pc = pc;
    this.remote = new MediaStream();
    pc.onicecandidate = event => {
      if (event.candidate) {
        void this.send({
          type: 'candidate',
          candidate: event.candidate.toJSON()
        });
      }
    };
    pc.onconnectionstatechange = () =>
      this.dispatch({ type: 'connection', state: pc.connectionState });
    pc.ontrack = event => {
      this.remote.addTrack(event.track);
      if (event.track.kind === 'audio') {
        this.meter(new MediaStream([event.track]), 'partner');
      }
      this.attach();
    };
    if (this.offerer) {
      const audio = this.local?.getAudioTracks()[0];
      if (audio) {
        pc.addTransceiver(audio, { direction: 'sendrecv' });
      }
      pc.addTransceiver('video', { direction: 'sendrecv' });
    }
  }

  private async makeOffer(): Promise<void> {
    const pc = this.pc;
    if (
      !pc ||
      pc.signalingState !== 'stable' ||
      pc.connectionState === 'connected'
    ) {
      return;
    }
    await pc.setLocalDescription(await pc.createOffer());
    await this.send({ type: 'offer', sdp: pc.localDescription!.toJSON() });
  }

  private async acceptOffer(sdp: RTCSessionDescriptionInit): Promise<void> {
    const pc = this.pc!;
    await pc.setRemoteDescription(sdp);
    for (const t of pc.getTransceivers()) {
      t.direction = 'sendrecv';
      const kind = t.receiver.track.kind;
      const track =
        kind === 'audio'
          ? (this.local?.getAudioTracks()[0] ?? null)
          : this.cameraTrack;
      await t.sender.replaceTrack(track);
    }
    await this.flushCandidates();
    await pc.setLocalDescription(await pc.createAnswer());
    await this.send({ type: 'answer', sdp: pc.localDescription!.toJSON() });
  }

  /** Put the partner's media in the page's elements (when they exist). */
  attach(): void {
    const { remoteAudio, remoteVideo, localVideo } = this.view;
    if (remoteAudio && remoteAudio.srcObject !== this.remote) {
      remoteAudio.srcObject = this.remote;
      void remoteAudio.play().catch(() => undefined);
    }
    if (remoteVideo && remoteVideo.srcObject !== this.remote) {
      remoteVideo.srcObject = this.remote;
    }
    if (localVideo) {
      localVideo.srcObject = this.cameraTrack
        ? new MediaStream([this.cameraTrack])
        : null;
    }
  }

  /** A speaking indicator: the voice's level ten times a second, held for a moment so a
   * word does not flicker it. */
  private meter(stream: MediaStream, who: 'me' | 'partner'): void {
    try {
      this.audioContext = this.audioContext ?? new AudioContext();
      void this.audioContext.resume().catch(() => undefined);
      const source = this.audioContext.createMediaStreamSource(stream);
      const analyser = this.audioContext.createAnalyser();
      analyser.fftSize = 2048;
      source.connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      let speaking = false;
      let lastLoud = 0;
      const timer = window.setInterval(() => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const v of samples) {
          sum += v * v;
        }
        const now = Date.now();
        if (Math.sqrt(sum / samples.length) > SPEAKING_LEVEL) {
          lastLoud = now;
        }
        const on = now - lastLoud < SPEAKING_HOLD_MS;
        if (on !== speaking) {
          speaking = on;
          this.dispatch({ type: 'speaking', who, on });
        }
      }, 100);
      this.meters.push(timer);
    } catch (error) {
      console.warn('PeerPrep call: no speaking indicator', error);
    }
  }

  setMuted(muted: boolean): void {
    for (const track of this.local?.getAudioTracks() ?? []) {
      track.enabled = !muted;
    }
    this.dispatch({ type: 'mute', muted });
    void this.send({ type: 'media', muted });
  }

  async setCamera(on: boolean): Promise<void> {
    const sender = this.pc
      ?.getTransceivers()
      .find(t => t.receiver.track.kind === 'video')?.sender;
    if (on) {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({
          video: true
        });
        this.cameraTrack = stream.getVideoTracks()[0];
      } catch (error) {
        this.dispatch({ type: 'camera-error', name: (error as Error).name });
        return;
      }
    } else {
      this.cameraTrack?.stop();
      this.cameraTrack = null;
    }
    await sender?.replaceTrack(this.cameraTrack);
    this.dispatch({ type: 'camera', on });
    this.attach();
    void this.send({ type: 'media', camera: on });
  }

  private resetConnection(): void {
    this.pc?.close();
    this.pc = null;
    this.pendingCandidates = [];
    if (this.local && this.state.phase !== 'idle') {
      // Still in the call ourselves: a fresh connection waits for the partner's next hello.
      this.createConnection();
    }
  }

  private releaseMedia(): void {
    for (const timer of this.meters) {
      window.clearInterval(timer);
    }
    this.meters = [];
    void this.audioContext?.close().catch(() => undefined);
    this.audioContext = null;
    this.local?.getTracks().forEach(t => t.stop());
    this.cameraTrack?.stop();
    this.local = null;
    this.cameraTrack = null;
    this.pc?.close();
    this.pc = null;
    this.pendingCandidates = [];
  }

  /** Press Hang up: leave the call, tell the partner; the chat goes on. */
  hangUp(): void {
    if (this.pc || this.local) {
      void this.send({ type: 'bye' });
    }
    this.releaseMedia();
    this.dispatch({ type: 'hangup' });
  }

  /** The session ended: the call is over for both, for good. */
  end(): void {
    this.stopped = true;
    this.releaseMedia();
    this.dispatch({ type: 'room-ended' });
  }
}
