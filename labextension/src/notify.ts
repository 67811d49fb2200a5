/**
 * Every failure reaches the student: a JupyterLab notification with the service's message.
 */
import { Notification } from '@jupyterlab/apputils';

import { PeerPrepError } from './request';

/** The user-facing text of an error (the service's `message` when there is one). */
export function messageOf(error: unknown): string {
  if (error instanceof PeerPrepError) {
    return error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** Show `error` as an error notification (prefixed with what failed); return its message. */
export function notifyError(error: unknown, what?: string): string {
  const message = messageOf(error);
  Notification.error(what ? `${what}: ${message}` : message, {
    autoClose: 10000
  });
  return message;
}

export function notifyInfo(message: string): void {
  Notification.info(message, { autoClose: 6000 });
}

export function notifySuccess(message: string): void {
  Notification.success(message, { autoClose: 5000 });
}
