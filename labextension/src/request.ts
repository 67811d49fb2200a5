/**
 * Talk to the PeerPrep service through this Jupyter server's `jupyter_peerprep` extension.
 *
 * The server extension relays `/peerprep/api/*` to the hub service with the server's own hub
 * token, so browser requests stay on the Jupyter server's origin and use JupyterLab's own
 * authentication and XSRF handling (see docs/explanation/architecture.md).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** An error from the service, carrying its JSON `message` for the user. */
export class PeerPrepError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: any = null
  ) {
    super(message);
    this.name = 'PeerPrepError';
  }
}

/** Extract the user-facing message from a `{"status", "message"}` error body. */
export function errorMessage(status: number, body: string): string {
  try {
    const data = JSON.parse(body);
    if (data && typeof data.message === 'string' && data.message) {
      return data.message;
    }
  } catch {
    // not JSON: fall through to a generic message
  }
  return `The PeerPrep service answered with HTTP ${status}.`;
}

/** The parsed JSON error body, or null (e.g. a 409's `ticket`). */
export function errorBody(body: string): any {
  try {
    const data = JSON.parse(body);
    return data && typeof data === 'object' ? data : null;
  } catch {
    return null;
  }
}

/**
 * Call the PeerPrep REST API at `endPoint` (relative to `/services/peerprep/api/`).
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const body = await requestText(endPoint, init, settings);
  return (body ? JSON.parse(body) : {}) as T;
}

/** The body of a PeerPrep API answer as text (a CSV export); errors as in `requestAPI`. */
export async function requestText(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<string> {
  const url = URLExt.join(settings.baseUrl, 'peerprep', 'api', endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new PeerPrepError(0, `Cannot reach the Jupyter server: ${error}`);
  }
  const body = await response.text();
  if (!response.ok) {
    throw new PeerPrepError(
      response.status,
      errorMessage(response.status, body),
      errorBody(body)
    );
  }
  return body;
}
