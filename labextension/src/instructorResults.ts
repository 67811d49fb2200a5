/**
 * The instructor tools' pure logic (no JupyterLab imports, so jest can test it): where a file
 * browser item lives, and what a validation or publish answer means for the dialog.
 */

/** One finding of the validator, as the service sends it. */
export interface IProblem {
  file: string;
  cell: number | null;
  tag: string | null;
  field: string | null;
  severity: string;
  message: string;
  text: string;
}

/** What the service answered, reduced to what the dialog shows. */
export interface IOutcome {
  ok: boolean;
  heading: string;
  lines: string[];
}

/**
 * The path of a file browser item from its hover text ("Name: x.ipynb\nPath: dir\n...").
 * Null when the directory was shortened ("...") and so cannot be trusted.
 */
export function pathFromListingTitle(title: string): string | null {
  const lines = title.split('\n');
  const name = lines.find(line => line.startsWith('Name: '));
  if (!name) {
    return null;
  }
  const fileName = name.slice('Name: '.length).trim();
  const dir = lines.find(line => line.startsWith('Path: '));
  if (!dir) {
    return fileName;
  }
  const dirName = dir.slice('Path: '.length).trim();
  if (dirName.endsWith('...')) {
    return null;
  }
  return dirName ? `${dirName}/${fileName}` : fileName;
}

function problemLines(problems: IProblem[] | undefined): string[] {
  return (problems || []).map(p =>
    p.severity === 'error' ? p.text : `(${p.severity}) ${p.text}`
  );
}

/** The dialog content for a validation answer (`POST questions?dry_run=1`). */
export function describeValidation(status: number, body: any): IOutcome {
  if (status !== 200) {
    return {
      ok: false,
      heading: 'Cannot validate',
      lines: [body?.message || `The service answered with HTTP ${status}.`]
    };
  }
  const errors = (body.problems || []).filter(
    (p: IProblem) => p.severity === 'error'
  );
  if (body.ok) {
    const counts =
      body.public !== undefined
        ? ` (${body.public} public, ${body.hidden} hidden tests)`
        : '';
    return {
      ok: true,
      heading: `${body.id} is a valid PeerPrep question${counts}`,
      lines: problemLines(body.problems)
    };
  }
  return {
    ok: false,
    heading: `Not valid: ${errors.length} problem${errors.length === 1 ? '' : 's'}`,
    lines: problemLines(body.problems)
  };
}

/** The dialog content for a publish answer (POST or PUT `questions`). */
export function describePublish(status: number, body: any): IOutcome {
  if (status === 200 || status === 201) {
    const action =
      body.action === 'unchanged'
        ? 'unchanged (same content as the current version)'
        : body.action === 'created'
          ? 'published'
          : 'published as a new version';
    return {
      ok: true,
      heading: `${body.id} version ${body.version}: ${action}`,
      lines: problemLines(body.problems)
    };
  }
  return {
    ok: false,
    heading:
      status === 400 ? 'Not published' : `Not published (HTTP ${status})`,
    lines: body?.problems?.length
      ? problemLines(body.problems)
      : [body?.message || `The service answered with HTTP ${status}.`]
  };
}
