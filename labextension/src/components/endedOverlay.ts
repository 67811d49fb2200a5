/**
 * The "session has ended" screen of a pair server, drawn over the whole page.
 *
 * Once a session ends the pair server stops, and JupyterLab starts showing its own modal error
 * dialogs ("Server connection error", "Directory not found"). The notice therefore covers the
 * page above those dialogs, so the student always sees it and can follow the link to the
 * history. Plain DOM, so it does not depend on the panel being visible.
 */

const OVERLAY_ID = 'peerprep-ended-overlay';

export interface IEndedNotice {
  /** Who ended it (display name), when known. */
  by: string | null;
  reason: string | null;
  /** True once the history has been saved (state "ended", not "ending"). */
  saved: boolean;
  historyUrl: string;
  hubHomeUrl: string;
}

export function showEndedOverlay(notice: IEndedNotice): HTMLElement {
  let overlay = document.getElementById(OVERLAY_ID);
  const fresh = !overlay;
  if (!overlay) {
    overlay = document.createElement('div');
    overlay.id = OVERLAY_ID;
    overlay.className = 'jp-PeerPrep-overlay';
    overlay.setAttribute('role', 'dialog');
    overlay.setAttribute('aria-modal', 'true');
    overlay.setAttribute('aria-labelledby', 'peerprep-ended-title');
    document.body.appendChild(overlay);
  }
  overlay.replaceChildren();
  const card = document.createElement('div');
  card.className = 'jp-PeerPrep-overlay-card';
  card.dataset.testid = 'peerprep-ended-notice';
  card.setAttribute('role', 'status');
  card.setAttribute('aria-live', 'assertive');

  const title = document.createElement('h2');
  title.id = 'peerprep-ended-title';
  const detail = notice.by
    ? ` (ended by ${notice.by})`
    : notice.reason
      ? ` (${notice.reason})`
      : '';
  title.textContent = `This session has ended${detail}.`;
  card.appendChild(title);

  const status = document.createElement('p');
  status.textContent = notice.saved
    ? 'The final notebook and every run are in your history.'
    : 'Saving the notebook to your history…';
  card.appendChild(status);

  const links = document.createElement('p');
  const history = document.createElement('a');
  history.href = notice.historyUrl;
  history.textContent = 'See it in your history';
  history.dataset.testid = 'peerprep-history-link';
  history.className = 'jp-mod-styled jp-PeerPrep-overlay-link';
  links.appendChild(history);
  links.appendChild(document.createTextNode(' · '));
  const home = document.createElement('a');
  home.href = notice.hubHomeUrl;
  home.textContent = 'Back to the hub';
  links.appendChild(home);
  card.appendChild(links);

  overlay.appendChild(card);
  if (fresh) {
    history.focus();
  }
  return overlay;
}

export function removeEndedOverlay(): void {
  document.getElementById(OVERLAY_ID)?.remove();
}
