/**
 * PeerPrep's JupyterLab plugins. In a student's own server: the PeerPrep panel (lobby, history,
 * profile) in the left area, revealed at start. In a pair server (hub user "pair-..."): the room
 * panel beside the question notebook.
 *
 * Add further plugins (e.g. the instructor tools) to the exported list at the bottom.
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { PeerPrepPanel, PeerPrepRoomPanel } from './panel';
import { notebookSource } from './notebook';
import { instructorPlugin } from './instructor';
import { ChatDock } from './talk/chatDock';

/**
 * Is this JupyterLab a pair server (the room of a match)? The server's owner is
 * "hubServerUser" (JupyterHub's singleuser page config); "hubUser" is the visiting student.
 */
export function isPairServer(): boolean {
  const owner =
    PageConfig.getOption('hubServerUser') ||
    PageConfig.getOption('hubUser') ||
    '';
  return owner.startsWith('pair-');
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-peerprep:plugin',
  description: 'PeerPrep: practise technical interviews in pairs.',
  autoStart: true,
  requires: [ILabShell],
  optional: [IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    rendermime: IRenderMimeRegistry | null
  ) => {
    if (isPairServer()) {
      const panel = new PeerPrepRoomPanel({
        hubPrefix: PageConfig.getOption('hubPrefix') || '/hub/',
        rendermime,
        getSource: path => notebookSource(app, path),
        chat: new ChatDock(app, labShell),
        openNotebook: path => {
          void app.restored.then(() =>
            app.commands.execute('docmanager:open', { path }).catch(error => {
              console.warn(`PeerPrep: cannot open ${path}`, error);
            })
          );
        }
      });
      labShell.add(panel, 'left', { rank: 50 });
      app.restored.then(() => labShell.activateById(panel.id));
      return;
    }
    // Read the deep link to a history entry before JupyterLab's router rewrites the URL.
    const historyRoom = new URLSearchParams(window.location.search).get(
      'peerprep-history'
    );
    const panel = new PeerPrepPanel({ historyRoom });
    labShell.add(panel, 'left', { rank: 50 });
    app.restored.then(() => labShell.activateById(panel.id));
  }
};

const plugins: JupyterFrontEndPlugin<any>[] = [plugin, instructorPlugin];

export default plugins;
