import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin,
  ILabShell
} from '@jupyterlab/application';

import { PeerPrepPanel } from './panel';
import { instructorPlugin } from './instructor';

/**
 * The PeerPrep plugin: adds the PeerPrep panel to the left side bar and reveals it.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-peerprep:plugin',
  description: 'PeerPrep: practise technical interviews in pairs.',
  autoStart: true,
  requires: [ILabShell],
  activate: (app: JupyterFrontEnd, labShell: ILabShell) => {
    const panel = new PeerPrepPanel();
    labShell.add(panel, 'left', { rank: 50 });
    app.restored.then(() => labShell.activateById(panel.id));
  }
};

export default [plugin, instructorPlugin];
