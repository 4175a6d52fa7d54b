// ui.js: toasts and modal dialogs, shared by the board and the detail panel.

import { h, icon } from './dom.js';

/**
 * toast shows a short message in the corner. kind "error" stays until closed or
 * 10 s pass and is announced at once (role=alert); "info" and "success" fade after 3 s.
 */
export function toast(kind, message, { title = '', timeout } = {}) {
  const host = document.getElementById('toasts');
  if (!host) return null;
  const ms = timeout ?? (kind === 'error' ? 10000 : 3000);
  const el = h('div', {
    class: `toast toast-${kind}`,
    role: kind === 'error' ? 'alert' : 'status',
    'data-testid': kind === 'error' ? 'error-toast' : 'info-toast',
  },
  h('div', { class: 'toast-body' },
    title ? h('div', { class: 'toast-title' }, title) : null,
    h('div', { class: 'toast-msg', 'data-testid': 'toast-message' }, message)),
  h('button', { type: 'button', class: 'icon-btn icon-btn-sm', 'aria-label': 'Dismiss', onclick: () => dismiss() }, icon('close')));
  const dismiss = () => {
    clearTimeout(timer);
    el.classList.add('toast-out');
    setTimeout(() => el.remove(), 200);
  };
  const timer = setTimeout(dismiss, ms);
  host.append(el);
  // Keep the corner tidy on a console that runs all day.
  while (host.children.length > 4) host.firstElementChild.remove();
  return el;
}

/**
 * modal shows a <dialog> with a title, body and buttons and resolves with the value
 * of the button pressed, or cancelValue when it is dismissed (Esc).
 * buttons: [{label, value, kind: 'primary'|'danger'|'', testid, autofocus}]
 */
export function modal({ title, body, buttons, testid, cancelValue = 'cancel' }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': testid });
    const close = (value) => {
      if (dlg.open) dlg.close();
      dlg.remove();
      resolve(value);
    };
    dlg.append(
      h('h2', { id: titleId, class: 'dialog-title' }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'dialog-actions' }, buttons.map((b) => h('button', {
        type: 'button',
        class: `btn ${b.kind ? `btn-${b.kind}` : ''}`,
        'data-testid': b.testid,
        autofocus: b.autofocus,
        onclick: () => close(b.value),
      }, b.label))),
    );
    dlg.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      close(cancelValue);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}
