/**
 * The PeerPrep side panel: who you are and whether the service is up.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { requestAPI } from './request';

export interface IMe {
  name: string;
  groups: string[];
  roles: string[];
  is_instructor: boolean;
  is_admin: boolean;
}

export interface IHealth {
  status: string;
  version: string;
  database: string;
}

type State =
  | { kind: 'loading' }
  | { kind: 'ready'; me: IMe; health: IHealth }
  | { kind: 'error'; message: string };

/** A one-word description of the user's role, for the panel header. */
export function roleLabel(me: IMe): string {
  if (me.is_admin) {
    return 'admin';
  }
  if (me.is_instructor) {
    return 'instructor';
  }
  return 'student';
}

export function PeerPrepPanelComponent(): JSX.Element {
  const [state, setState] = useState<State>({ kind: 'loading' });
  useEffect(() => {
    Promise.all([requestAPI<IMe>('me'), requestAPI<IHealth>('health')])
      .then(([me, health]) => setState({ kind: 'ready', me, health }))
      .catch(error => setState({ kind: 'error', message: String(error.message) }));
  }, []);

  if (state.kind === 'loading') {
    return <div className="jp-PeerPrep-panel">Connecting to PeerPrep…</div>;
  }
  if (state.kind === 'error') {
    return (
      <div className="jp-PeerPrep-panel" role="alert">
        <h2>PeerPrep</h2>
        <p className="jp-PeerPrep-error">{state.message}</p>
      </div>
    );
  }
  const { me, health } = state;
  return (
    <div className="jp-PeerPrep-panel">
      <h2>PeerPrep</h2>
      <p>
        Signed in as <strong className="jp-PeerPrep-username">{me.name}</strong> (
        {roleLabel(me)})
      </p>
      <p className="jp-PeerPrep-health">
        Service: {health.status} · v{health.version}
      </p>
    </div>
  );
}

export class PeerPrepPanel extends ReactWidget {
  constructor() {
    super();
    this.id = 'peerprep-panel';
    this.addClass('jp-PeerPrep');
    this.title.caption = 'PeerPrep';
    this.title.label = 'PeerPrep';
  }

  render(): JSX.Element {
    return <PeerPrepPanelComponent />;
  }
}
