/**
 * Markdown rendered by JupyterLab's own (sanitising) markdown renderer; plain text without one.
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import React, { useEffect, useRef } from 'react';

export function Markdown(props: {
  source: string;
  rendermime?: IRenderMimeRegistry | null;
  className?: string;
  testid?: string;
}): JSX.Element {
  const { source, rendermime } = props;
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = host.current;
    if (!node || !rendermime) {
      return;
    }
    const renderer = rendermime.createRenderer('text/markdown');
    const model = rendermime.createModel({
      data: { 'text/markdown': source },
      trusted: false
    });
    node.replaceChildren(renderer.node);
    renderer.renderModel(model).catch(error => {
      console.warn('PeerPrep: markdown rendering failed', error);
      node.textContent = source;
    });
    return () => renderer.dispose();
  }, [source, rendermime]);
  return (
    <div className={props.className} data-testid={props.testid} ref={host}>
      {rendermime ? null : <pre className="jp-PeerPrep-pre">{source}</pre>}
    </div>
  );
}
