// Plain HTML pages with inline styles, no external assets.
const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1f2328; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; padding: 2rem; background: #fff;
         border-radius: 8px; box-shadow: 0 1px 4px rgba(0, 0, 0, .15); }
  h1 { font-size: 1.5rem; margin: 0 0 1.5rem; }
  label { display: block; font-weight: 600; margin-bottom: .4rem; }
  input { box-sizing: border-box; width: 100%; padding: .6rem; font-size: 1rem;
          border: 1px solid #8c959f; border-radius: 6px; margin-bottom: 1rem; }
  button { width: 100%; padding: .7rem; font-size: 1rem; color: #fff; background: #5d34f2;
           border: 0; border-radius: 6px; cursor: pointer; }
  .error { color: #b42318; }
  .note { color: #57606a; font-size: .85rem; margin-top: 1.5rem; }
  .testing { margin: 1.5rem 0 0; font-size: .8rem; color: #57606a; }
  .testing label { font-weight: 400; }
  .testing input { font-size: .85rem; padding: .3rem; width: 8rem; margin: 0; }`;

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

// The sign-in form: `username` pre-filled from login_hint; `auth_age` (optional, for tests)
// makes this sign-in's auth_time that many seconds in the past.
export function signInPage({ uid, signUp, error, username, authAge }) {
  const title = signUp ? 'Create account' : 'Sign in';
  const alert = error ? `<p class="error" id="error" role="alert">${escapeHtml(error)}</p>` : '';
  return page(title, `<h1>${title}</h1>
${alert}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" autocomplete="username" autofocus value="${escapeHtml(username)}">
  <button type="submit">${title}</button>
  <p class="testing">
    <label for="auth_age">Testing: signed in this many seconds ago (optional)</label>
    <input id="auth_age" name="auth_age" type="text" inputmode="numeric" pattern="[0-9]*" value="${escapeHtml(authAge)}">
  </p>
</form>
<p class="note">Local identity provider for development. Any username works.</p>`);
}

export function errorPage(error, description) {
  return page('Error', `<h1>Something went wrong</h1>
<p class="error" id="error"><strong>${escapeHtml(error)}</strong></p>
${description ? `<p>${escapeHtml(description)}</p>` : ''}`);
}

// Like Logto: the logout form submits itself; the hidden inputs stay parseable without JS.
export function logoutPage(form) {
  const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  return page('Signing out', `<h1>Signing out…</h1>
${confirmed}
<noscript><button type="submit" form="op.logoutForm">Continue</button></noscript>
<script>document.forms[0].submit()</script>`);
}

export function signedOutPage() {
  return page('Signed out', '<h1>Signed out</h1>\n<p>You have been signed out.</p>');
}

// The provider's own sign-out (GET /sign-out): ends this browser's session at the provider,
// which sends a back-channel logout token to every app it signed in to.
export function signOutPage({ username }) {
  const who = username
    ? `<p>Signed in at the identity provider as <strong id="username">${escapeHtml(username)}</strong>.</p>`
    : '<p id="not-signed-in">This browser is not signed in at the identity provider.</p>';
  return page('Sign out of the identity provider', `<h1>Sign out of the identity provider</h1>
${who}
<form method="get" action="/oidc/session/end">
  <button type="submit">Sign out</button>
</form>
<p class="note">Ends this browser's session at the local identity provider. Apps registered with a
back-channel logout URI are told at once and end their sessions for it.</p>`);
}
