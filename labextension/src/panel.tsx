/**
 * The PeerPrep side panels: the student's panel (who you are, service health, and the Lobby,
 * History and Profile tabs) and the room panel of a pair server.
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ReactWidget } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { IHealth, IMe, api } from './api';
import { ClassView } from './components/classview';
import { History } from './components/history';
import { Lobby } from './components/lobby';
import { Profile } from './components/profile';
import { RoomPanel } from './components/room';
import { roleLabel } from './format';
import { notifyError } from './notify';
import type { ChatDock } from './talk/chatDock';

export { roleLabel };
export type { IHealth, IMe };

type Identity =
  | { kind: 'loading' }
  | { kind: 'ready'; me: IMe; health: IHealth }
  | { kind: 'error'; message: string };

/** Who the caller is and whether the service is up (loaded once). */
export function useIdentity(): Identity {
  const [state, setState] = useState<Identity>({ kind: 'loading' });
  useEffect(() => {
    Promise.all([api.me(), api.health()])
      .then(([me, health]) => setState({ kind: 'ready', me, health }))
      .catch(error =>
        setState({
          kind: 'error',
          message: notifyError(error, 'Connecting to PeerPrep')
        })
      );
  }, []);
  return state;
}

type Tab = 'lobby' | 'history' | 'profile' | 'class';
const TABS: { id: Tab; label: string }[] = [
  { id: 'lobby', label: 'Lobby' },
  { id: 'history', label: 'History' },
  { id: 'profile', label: 'Profile' }
];

export function StudentPanelComponent(props: {
  historyRoom?: string | null;
}): JSX.Element {
  const identity = useIdentity();
  const [tab, setTab] = useState<Tab>(props.historyRoom ? 'history' : 'lobby');

  if (identity.kind === 'loading') {
    return <div className="jp-PeerPrep-panel">Connecting to PeerPrep…</div>;
  }
  if (identity.kind === 'error') {
    return (
      <div className="jp-PeerPrep-panel" role="alert">
        <h2>PeerPrep</h2>
        <p className="jp-PeerPrep-error">{identity.message}</p>
      </div>
    );
  }
  const { me, health } = identity;
  // Instructors also get the class view.
  const tabs = me.is_instructor
    ? [...TABS, { id: 'class' as Tab, label: 'Class' }]
    : TABS;
  return (
    <div className="jp-PeerPrep-panel">
      <h2>PeerPrep</h2>
      <p>
        Signed in as{' '}
        <strong
          className="jp-PeerPrep-username"
          data-testid="peerprep-username"
        >
          {me.name}
        </strong>{' '}
        ({roleLabel(me)})
      </p>
      <p className="jp-PeerPrep-health" data-testid="peerprep-health">
        Service: {health.status} · v{health.version}
      </p>
      <div className="jp-PeerPrep-tabs" role="tablist" aria-label="PeerPrep">
        {tabs.map(t => (
          <button
            key={t.id}
            role="tab"
            id={`peerprep-tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`peerprep-tabpanel-${t.id}`}
            className={
              'jp-PeerPrep-tab' + (tab === t.id ? ' jp-mod-selected' : '')
            }
            onClick={() => setTab(t.id)}
            data-testid={`peerprep-tab-${t.id}`}
          >
            {t.label}
          </button>
        ))}
      </div>
      {tabs.map(t => (
        <div
          key={t.id}
          role="tabpanel"
          id={`peerprep-tabpanel-${t.id}`}
          aria-labelledby={`peerprep-tab-${t.id}`}
          hidden={tab !== t.id}
          className="jp-PeerPrep-tabpanel"
        >
          {t.id === 'lobby' ? <Lobby /> : null}
          {t.id === 'history' ? (
            <History open={props.historyRoom} visible={tab === 'history'} />
          ) : null}
          {t.id === 'profile' && tab === 'profile' ? <Profile /> : null}
          {t.id === 'class' && tab === 'class' ? <ClassView visible /> : null}
        </div>
      ))}
    </div>
  );
}

/** The student's panel (left area of the student's own server). */
export class PeerPrepPanel extends ReactWidget {
  constructor(private options: { historyRoom?: string | null } = {}) {
    super();
    this.id = 'peerprep-panel';
    this.addClass('jp-PeerPrep');
    this.title.caption = 'PeerPrep';
    this.title.label = 'PeerPrep';
  }

  render(): JSX.Element {
    return <StudentPanelComponent historyRoom={this.options.historyRoom} />;
  }
}

export interface IRoomWidgetOptions {
  hubPrefix: string;
  rendermime: IRenderMimeRegistry | null;
  getSource: (notebookPath: string) => Promise<string>;
  openNotebook: (notebookPath: string) => void;
  chat?: ChatDock | null;
}

function RoomPanelWithIdentity(props: IRoomWidgetOptions): JSX.Element {
  const identity = useIdentity();
  const me = identity.kind === 'ready' ? identity.me : null;
  return <RoomPanel me={me} {...props} />;
}

/** The room panel (left area of a pair server). */
export class PeerPrepRoomPanel extends ReactWidget {
  constructor(private options: IRoomWidgetOptions) {
    super();
    this.id = 'peerprep-room-panel';
    this.addClass('jp-PeerPrep');
    this.title.caption = 'PeerPrep room';
    this.title.label = 'Room';
  }

  render(): JSX.Element {
    return <RoomPanelWithIdentity {...this.options} />;
  }
}
