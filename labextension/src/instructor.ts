/**
 * Instructor tools: "Validate PeerPrep question" and "Publish to PeerPrep" on a notebook, from
 * the file browser's context menu or the command palette (for the notebook being edited).
 *
 * Both send the saved notebook to the service through this server's relay
 * (`<server>/peerprep/api/questions`): validate with `?dry_run=1`, publish with POST (and, when
 * the question exists, PUT after a confirmation: a new version). The validator's findings (file,
 * cell, field, message) are listed in the dialog. The service decides who may publish; a student
 * sees its 403 message.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import { PathExt, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import {
  IOutcome,
  describePublish,
  describeValidation,
  pathFromListingTitle
} from './instructorResults';

export const VALIDATE_COMMAND = 'peerprep:validate-question';
export const PUBLISH_COMMAND = 'peerprep:publish-question';
const NOTEBOOK_ITEM = '.jp-DirListing-item[data-file-type="notebook"]';

/** Call the service's question API through the relay; never throws for an HTTP error. */
async function callQuestions(
  method: string,
  endPoint: string,
  body: string
): Promise<{ status: number; data: any }> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'peerprep', 'api', endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { method, body, headers: { 'Content-Type': 'application/json' } },
      settings
    );
  } catch (error) {
    return {
      status: 0,
      data: { message: `Cannot reach the Jupyter server: ${error}` }
    };
  }
  const text = await response.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = {
      message: `The PeerPrep service answered with HTTP ${response.status}.`
    };
  }
  return { status: response.status, data };
}

function outcomeBody(outcome: IOutcome): Widget {
  const node = document.createElement('div');
  node.className = 'jp-PeerPrep-instructorResult';
  if (outcome.lines.length) {
    const list = document.createElement('ul');
    for (const line of outcome.lines) {
      const item = document.createElement('li');
      item.textContent = line;
      list.appendChild(item);
    }
    node.appendChild(list);
  } else {
    node.textContent = outcome.ok ? 'No problems found.' : '';
  }
  return new Widget({ node });
}

async function showOutcome(outcome: IOutcome): Promise<void> {
  await showDialog({
    title: outcome.heading,
    body: outcomeBody(outcome),
    buttons: [Dialog.okButton()]
  });
}

/** The notebook a command acts on: the file browser item right-clicked, else the open one. */
function targetPath(app: JupyterFrontEnd, args: any): string | null {
  if (typeof args?.path === 'string' && args.path) {
    return args.path;
  }
  const item = app.contextMenuHitTest(node =>
    node.classList.contains('jp-DirListing-item')
  );
  if (item) {
    return pathFromListingTitle(item.title);
  }
  const current: any = app.shell.currentWidget;
  const path = current?.context?.path;
  return typeof path === 'string' && path.endsWith('.ipynb') ? path : null;
}

async function readNotebook(
  app: JupyterFrontEnd,
  path: string
): Promise<string> {
  const model = await app.serviceManager.contents.get(path, {
    content: true,
    type: 'notebook'
  });
  return JSON.stringify(model.content);
}

async function run(
  app: JupyterFrontEnd,
  args: any,
  publish: boolean
): Promise<void> {
  const path = targetPath(app, args);
  if (!path) {
    await showOutcome({
      ok: false,
      heading: 'Which notebook?',
      lines: [
        'Right-click a notebook in the file browser, or open it and use the command palette.'
      ]
    });
    return;
  }
  let notebook: string;
  try {
    notebook = await readNotebook(app, path);
  } catch (error) {
    await showOutcome({
      ok: false,
      heading: `Cannot read ${path}`,
      lines: [String(error)]
    });
    return;
  }
  const filename = encodeURIComponent(PathExt.basename(path));
  if (!publish) {
    const answer = await callQuestions(
      'POST',
      `questions?dry_run=1&filename=${filename}`,
      notebook
    );
    await showOutcome(describeValidation(answer.status, answer.data));
    return;
  }
  let answer = await callQuestions(
    'POST',
    `questions?filename=${filename}`,
    notebook
  );
  if (answer.status === 409) {
    const id = JSON.parse(notebook)?.metadata?.peerprep?.id;
    const choice = await showDialog({
      title: `Replace ${id}?`,
      body: `${answer.data.message} Publishing adds a new version; rooms keep the one they use.`,
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: 'Publish new version' })
      ]
    });
    if (!choice.button.accept) {
      return;
    }
    answer = await callQuestions(
      'PUT',
      `questions/${encodeURIComponent(id)}?filename=${filename}`,
      notebook
    );
  }
  await showOutcome(describePublish(answer.status, answer.data));
}

export const instructorPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-peerprep:instructor',
  description: 'Validate and publish PeerPrep question notebooks.',
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null) => {
    app.commands.addCommand(VALIDATE_COMMAND, {
      label: 'Validate PeerPrep question',
      caption:
        'Check this question notebook in the PeerPrep grader without publishing it',
      execute: args => run(app, args, false)
    });
    app.commands.addCommand(PUBLISH_COMMAND, {
      label: 'Publish to PeerPrep',
      caption:
        'Validate this question notebook and publish it to the PeerPrep question bank',
      execute: args => run(app, args, true)
    });
    app.contextMenu.addItem({
      command: VALIDATE_COMMAND,
      selector: NOTEBOOK_ITEM,
      rank: 60
    });
    app.contextMenu.addItem({
      command: PUBLISH_COMMAND,
      selector: NOTEBOOK_ITEM,
      rank: 61
    });
    if (palette) {
      palette.addItem({ command: VALIDATE_COMMAND, category: 'PeerPrep' });
      palette.addItem({ command: PUBLISH_COMMAND, category: 'PeerPrep' });
    }
  }
};
