/**
 * History panel logic: filtering attempts, reading a final notebook's cells, export.
 */
import { IAttempt, IAttemptResult, INotebook, INotebookCell } from './api';

export interface IHistoryFilter {
  topic: string;
  difficulty: string;
}

/** Attempts matching the filter ("" = any), order kept. */
export function filterAttempts(
  attempts: IAttempt[],
  filter: IHistoryFilter
): IAttempt[] {
  return attempts.filter(
    a =>
      (!filter.difficulty || a.question.difficulty === filter.difficulty) &&
      (!filter.topic || (a.question.topics || []).includes(filter.topic))
  );
}

/** Every topic in the attempts, sorted, for the filter menu. */
export function attemptTopics(attempts: IAttempt[]): string[] {
  const topics = new Set<string>();
  for (const a of attempts) {
    for (const t of a.question.topics || []) {
      topics.add(t);
    }
  }
  return [...topics].sort();
}

/** The partner's name for lists; "no partner" when the service has none. */
export function partnerLabel(attempt: Pick<IAttempt, 'partner'>): string {
  const p = attempt.partner;
  return p ? p.display_name || p.name : 'no partner';
}

/** How the session ended, for the history: "ended by a student", "server lost", ... */
export function endLabel(
  attempt: Pick<IAttempt, 'end_reason' | 'end_message'>
): string {
  return attempt.end_reason || 'ended';
}

/** True when the session did not end the normal way (its server was lost). */
export function endedAbnormally(
  attempt: Pick<IAttempt, 'end_reason' | 'end_message'>
): boolean {
  return Boolean(attempt.end_message);
}

/** "3/4 passed", "no submit". */
export function resultLabel(result: IAttemptResult | null): string {
  if (!result) {
    return 'no submit';
  }
  if (result.verdict === 'error') {
    return `error (${result.passed}/${result.total})`;
  }
  return `${result.passed}/${result.total} passed`;
}

export function cellSource(cell: Pick<INotebookCell, 'source'>): string {
  return Array.isArray(cell.source)
    ? cell.source.join('')
    : String(cell.source ?? '');
}

export interface ICellBlock {
  kind: 'code' | 'markdown' | 'raw';
  source: string;
  tags: string[];
}

/** The notebook's cells as read-only text blocks. */
export function notebookBlocks(
  notebook: INotebook | null | undefined
): ICellBlock[] {
  if (!notebook || !Array.isArray(notebook.cells)) {
    return [];
  }
  return notebook.cells.map(cell => ({
    kind:
      cell.cell_type === 'code'
        ? 'code'
        : cell.cell_type === 'markdown'
          ? 'markdown'
          : 'raw',
    source: cellSource(cell),
    tags: Array.isArray(cell.metadata?.tags)
      ? (cell.metadata!.tags as string[])
      : []
  }));
}

/** "two-sum-2026-11-22.ipynb". */
export function exportFilename(
  attempt: Pick<IAttempt, 'question' | 'ended' | 'started'>
): string {
  const slug = (attempt.question.id || 'attempt').replace(/[^a-z0-9-]+/gi, '-');
  const when = attempt.ended || attempt.started || '';
  const date = /^\d{4}-\d{2}-\d{2}/.exec(when);
  return `${slug}${date ? '-' + date[0] : ''}.ipynb`;
}

/** The notebook as .ipynb text (nbformat 4 defaults filled in). */
export function notebookText(notebook: INotebook): string {
  return (
    JSON.stringify(
      {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        ...notebook
      },
      null,
      1
    ) + '\n'
  );
}
