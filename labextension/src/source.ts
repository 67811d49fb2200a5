/**
 * The solution source sent to Run/Submit: every code cell of the room's notebook in order,
 * except cells tagged "public-tests" (and "hidden-tests"). Notebook-only lines (IPython magics
 * "%..." and shell escapes "!...") are commented out: the grader runs plain Python.
 */
import { INotebookCell } from './api';
import { cellSource } from './history';

const EXCLUDED_TAGS = ['public-tests', 'hidden-tests'];

export function solutionSource(
  cells: Pick<INotebookCell, 'cell_type' | 'source' | 'metadata'>[]
): string {
  return cells
    .filter(c => c.cell_type === 'code')
    .filter(c => {
      const tags = Array.isArray(c.metadata?.tags)
        ? (c.metadata!.tags as string[])
        : [];
      return !tags.some(t => EXCLUDED_TAGS.includes(t));
    })
    .map(c => stripMagics(cellSource(c)))
    .filter(s => s.trim() !== '')
    .join('\n\n')
    .concat('\n');
}

export function stripMagics(source: string): string {
  return source
    .split('\n')
    .map(line => {
      const t = line.replace(/^\s+/, '');
      return t.startsWith('%') || t.startsWith('!')
        ? `${line.slice(0, line.length - t.length)}# ${t}`
        : line;
    })
    .join('\n');
}
