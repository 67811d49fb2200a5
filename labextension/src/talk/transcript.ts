/** The room chat's transcript in history: as shown, and as a cell of the .ipynb export. */

export interface IChatLine {
  time: string;
  sender: string;
  name: string;
  body: string;
  system: boolean;
}

/** The transcript as Markdown (one paragraph per message; PeerPrep's own lines in italics). */
export function transcriptMarkdown(lines: IChatLine[]): string {
  const out = ['## Chat transcript', ''];
  if (!lines.length) {
    out.push('_No chat messages in this session._');
  }
  for (const line of lines) {
    const at = line.time.slice(11, 19);
    if (line.system) {
      out.push(`_${at} · ${line.body}_`, '');
    } else {
      out.push(`**${line.name}** (${at}):`, '', line.body, '');
    }
  }
  return out.join('\n').replace(/\s+$/, '') + '\n';
}

/** The notebook with the transcript appended as a Markdown cell (for the .ipynb export). */
export function withTranscript<T extends { cells?: any[] }>(
  notebook: T,
  lines: IChatLine[] | undefined
): T {
  if (!lines) {
    return notebook;
  }
  const cell = {
    cell_type: 'markdown',
    metadata: { peerprep: { chat_transcript: true } },
    source: transcriptMarkdown(lines)
  };
  return { ...notebook, cells: [...(notebook.cells ?? []), cell] };
}
