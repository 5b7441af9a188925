// The sign-in screen behind interactions.url; consent is granted without asking the user.
import { errors } from 'oidc-provider';

import { signIn } from './accounts.js';
import { signInPage } from './views.js';

const SIGN_UP_SCREENS = new Set(['register', 'identifier:register']);
const MAX_BODY_BYTES = 16 * 1024;

function wantsSignUp(params) {
  return params.interaction_mode === 'signUp' || SIGN_UP_SCREENS.has(params.first_screen);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > MAX_BODY_BYTES) throw new errors.InvalidRequest('request body too large', 413);
  }
  return new URLSearchParams(body);
}

function sendHtml(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function loadInteraction(provider, req, res, uid, promptNames) {
  const interaction = await provider.interactionDetails(req, res);
  if (interaction.uid !== uid || !promptNames.includes(interaction.prompt.name)) {
    throw new errors.InvalidRequest('this sign-in link is no longer valid, start again from the app');
  }
  return interaction;
}

// First-party app, like Logto's traditional web apps: grant whatever OIDC scopes and claims,
// and whatever scopes of the requested API resources, were asked.
async function grantConsent(provider, interaction) {
  const { prompt: { details }, params, session, grantId } = interaction;
  const grant = (grantId && await provider.Grant.find(grantId))
    || new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

export async function showInteraction(provider, req, res, uid) {
  const interaction = await loadInteraction(provider, req, res, uid, ['login', 'consent']);
  if (interaction.prompt.name === 'consent') {
    const result = await grantConsent(provider, interaction);
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  }
  return sendHtml(res, 200, signInPage({ uid, signUp: wantsSignUp(interaction.params) }));
}

export async function submitLogin(provider, req, res, uid) {
  const interaction = await loadInteraction(provider, req, res, uid, ['login']);
  const username = (await readForm(req)).get('username')?.trim() ?? '';
  if (!username) {
    const signUp = wantsSignUp(interaction.params);
    return sendHtml(res, 400, signInPage({ uid, signUp, error: 'Please enter a username.' }));
  }
  const result = { login: { accountId: signIn(username) } };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}
