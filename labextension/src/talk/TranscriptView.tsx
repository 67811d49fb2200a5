/** The chat transcript of one attempt, in the history panel. */
import React from 'react';

import { IChatLine } from './transcript';

export function ChatTranscript(props: {
  lines: IChatLine[] | undefined;
}): JSX.Element {
  const lines = props.lines ?? [];
  return (
    <div className="jp-PeerPrep-transcript" data-testid="peerprep-transcript">
      <h4>Chat</h4>
      {lines.length ? (
        <ol aria-label="Chat transcript">
          {lines.map((line, i) => (
            <li
              key={i}
              className={line.system ? 'jp-PeerPrep-chat-system' : undefined}
            >
              <span className="jp-PeerPrep-muted">
                {line.time.slice(11, 19)}{' '}
              </span>
              {line.system ? (
                <em>{line.body}</em>
              ) : (
                <>
                  <strong>{line.name}</strong>:{' '}
                  <span className="jp-PeerPrep-chat-body">{line.body}</span>
                </>
              )}
            </li>
          ))}
        </ol>
      ) : (
        <p className="jp-PeerPrep-muted">No chat messages in this session.</p>
      )}
    </div>
  );
}
