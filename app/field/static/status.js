// The sync part of the bottom bar's status line: on the phone, saved on the server, waiting, sent.

import { $, bar, draft, now, outbox } from './state.js';
import { T, clock, fmt } from './text.js';

let lastSavedAt = null;
/** Remember when the server last saved the draft. */
export function noteSaved(savedAt) {
  lastSavedAt = savedAt;
}

export function setStatus(kind) {
  const line = $('.bar-sync');
  const signin = $('.bar-signin');
  signin.hidden = kind !== 'signin';
  bar.dataset.sync = kind;
  if (outbox && outbox.state === 'sent') kind = 'sent';
  const texts = {
    local: T.saved_local,
    idle: draft && draft.rev > draft.synced_rev ? T.saved_local : (lastSavedAt || draft?.server_saved_at ? T.saved : ''),
    offline: T.offline,
    sending: T.sending,
    signin: T.signin,
    server_error: T.server_error,
    sent: outbox && outbox.result ? fmt(T.sent, { time: clock(outbox.result.submitted_at || now()) }) : '',
  };
  line.textContent = texts[kind] ?? '';
}
