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

/** The code form; with a code already checked, a confirmation ("is this the code in your terminal?"). */
export function deviceFormPage(options: { csrf: string; userCode?: string; error?: string }): string {
  const error = options.error ? `<p class="error">${escapeHtml(options.error)}</p>` : '';
  const hidden = `<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">`;
  if (options.userCode) {
    return page(
      'Sign in to the gateway',
      `${error}<p>Check that your terminal shows this code:</p><p><code>${escapeHtml(options.userCode)}</code></p>
<form method="post" action="/device">${hidden}<input type="hidden" name="user_code" value="${escapeHtml(options.userCode)}">
<button type="submit">Continue to sign in</button></form>
<p>If you did not start a sign-in, close this page.</p>`,
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
