/**
 * The solution source of the room notebook, read from the open editor (the live, shared
 * document) or, when it is not open, from the saved file through the contents API.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';

import { INotebookCell } from './api';
import { solutionSource } from './source';

interface IDocumentLike {
  context?: {
    path?: string;
    model?: { toJSON?: () => any };
  };
}

function openNotebookCells(
  app: JupyterFrontEnd,
  path: string
): INotebookCell[] | null {
  const candidates: IDocumentLike[] = [];
  for (const widget of app.shell.widgets('main')) {
    const doc = widget as unknown as IDocumentLike;
    if (doc.context?.model?.toJSON && doc.context.path?.endsWith('.ipynb')) {
      candidates.push(doc);
    }
  }
  const exact =
    candidates.find(d => d.context!.path === path) ??
    candidates.find(
      d => d.context!.path!.split('/').pop() === path.split('/').pop()
    );
  const chosen = exact ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!chosen) {
    return null;
  }
  const json = chosen.context!.model!.toJSON!();
  return json && Array.isArray(json.cells)
    ? (json.cells as INotebookCell[])
    : null;
}

export async function notebookSource(
  app: JupyterFrontEnd,
  path: string
): Promise<string> {
  const cells = openNotebookCells(app, path);
  if (cells) {
    return solutionSource(cells);
  }
  const model = await app.serviceManager.contents.get(path, {
    content: true,
    type: 'notebook'
  });
  const content = model.content as { cells?: INotebookCell[] } | null;
  if (!content || !Array.isArray(content.cells)) {
    throw new Error(`Cannot read the notebook ${path}.`);
  }
  return solutionSource(content.cells);
}
