/** The device page's HTML: plain forms, no script, everything escaped. */

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · abproxy</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
input{font:inherit;font-family:ui-monospace,monospace;letter-spacing:.1em;padding:.4rem;width:12rem;text-transform:uppercase}
button{font:inherit;padding:.4rem 1rem}.error{color:#a00}code{font-size:1.2em}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

/** A checked code and what is known of its start, for the confirmation. */
export interface DeviceConfirmation {
  /** As shown: `XXXX-XXXX`. */
  userCode: string;
  /** ISO time the sign-in was started. */
  startedAt: string;
  startedFrom?: { address: string; userAgent?: string };
  /** The address this page was asked from. */
  viewer: string;
  now: number;
}

function ago(fromMs: number, nowMs: number): string {
  const minutes = Math.max(0, Math.round((nowMs - fromMs) / 60_000));
  return minutes === 0 ? 'less than a minute ago' : minutes === 1 ? '1 minute ago' : `${minutes} minutes ago`;
}

/**
 * When, from where and by what the sign-in was started (RFC 8628 §5.4): a code someone else started
 * and passed on (a phishing mail, a chat message) shows a time, an address and a program the person
 * does not recognise.
 */
function startedLine(c: DeviceConfirmation): string {
  const at = Date.parse(c.startedAt);
  const when = `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC (${ago(at, c.now)})`;
  const from = c.startedFrom
    ? ` from <code>${escapeHtml(c.startedFrom.address)}</code>${c.startedFrom.userAgent ? ` by <code>${escapeHtml(c.startedFrom.userAgent)}</code>` : ''}`
    : '';
  return `<p>This sign-in was started at ${escapeHtml(when)}${from}. This browser is at <code>${escapeHtml(c.viewer)}</code>.</p>`;
}

/** The code form; with a code already checked, a confirmation ("is this the code in your terminal?"). */
export function deviceFormPage(options: {
  csrf: string;
  confirm?: DeviceConfirmation;
  error?: string;
}): string {
  const error = options.error ? `<p class="error">${escapeHtml(options.error)}</p>` : '';
  const hidden = `<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">`;
  const confirm = options.confirm;
  if (confirm) {
    return page(
      'Sign in to the gateway',
      `${error}<p>Check that your terminal shows this code:</p><p><code>${escapeHtml(confirm.userCode)}</code></p>
${startedLine(confirm)}
<form method="post" action="/device">${hidden}<input type="hidden" name="user_code" value="${escapeHtml(confirm.userCode)}"><input type="hidden" name="confirmed" value="1">
<button type="submit">Continue to sign in</button></form>
<p>If you did not start this sign-in just now, close this page: someone may be trying to sign in as you.</p>`,
    );
  }
  return page(
    'Sign in to the gateway',
    `${error}<form method="post" action="/device">${hidden}<label>Code shown in your terminal<br>
<input name="user_code" autocomplete="off" autofocus required placeholder="XXXX-XXXX"></label>
<button type="submit">Continue</button></form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<p>${escapeHtml(message)}</p>`);
}
