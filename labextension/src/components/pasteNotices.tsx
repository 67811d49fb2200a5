/**
 * Pastes in the room so far (the session record's paste flags), shown plainly to both
 * students: who inserted how many characters at once, and when. Information, not an
 * accusation: an autocompletion or a snippet from the course notes is a paste too.
 */
import React, { useEffect, useState } from 'react';

import { IPaste } from '../record';
import { requestAPI } from '../request';

export function PasteNotices(props: {
  roomId: string;
  pollMs?: number;
}): JSX.Element | null {
  const [pastes, setPastes] = useState<IPaste[]>([]);
  useEffect(() => {
    let stopped = false;
    const load = () =>
      requestAPI<{ pastes: IPaste[] }>(
        `rooms/${encodeURIComponent(props.roomId)}/pastes`
      )
        .then(answer => {
          if (!stopped) {
            setPastes(answer.pastes);
          }
        })
        .catch(() => undefined); // the next poll tries again; editing goes on regardless
    void load();
    const timer = setInterval(() => void load(), props.pollMs ?? 10000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [props.roomId, props.pollMs]);
  if (!pastes.length) {
    return null;
  }
  return (
    <details className="jp-PeerPrep-pastes" data-testid="peerprep-room-pastes">
      <summary>
        {pastes.length} large insertion{pastes.length === 1 ? '' : 's'} at once
      </summary>
      <ul>
        {pastes.map((p, i) => (
          <li key={i}>
            {new Date(p.at_ms).toLocaleTimeString()}: {p.user} inserted{' '}
            {p.text.length} characters at once.
          </li>
        ))}
      </ul>
    </details>
  );
}
