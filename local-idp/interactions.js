// The sign-in screen behind interactions.url; consent is granted without asking the user.
import { errors } from 'oidc-provider';

import { signIn, signInWithConnector } from './accounts.js';
import { authTimeOffset } from './switches.js';
import { signInPage } from './views.js';

const SIGN_UP_SCREENS = new Set(['register', 'identifier:register']);
const CONNECTOR_METHODS = new Set(['social', 'sso']);
const MAX_BODY_BYTES = 16 * 1024;
const MAX_AUTH_AGE = 10 * 366 * 24 * 60 * 60;

function wantsSignUp(params) {
  return params.interaction_mode === 'signUp' || SIGN_UP_SCREENS.has(params.first_screen);
}

// Logto's `direct_sign_in=<method>:<target>` (core oidc/utils.ts splits it on ':'); the
// experience goes straight to that connector, or to its first screen for any other method.
function directConnector(params) {
  const [method, target] = (params.direct_sign_in ?? '').split(':');
  return CONNECTOR_METHODS.has(method) && target ? { method, target } : undefined;
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

// `auth_age` (seconds, optional): this sign-in's auth_time is that far in the past; without
// it, the offset set with IDP_AUTH_TIME_OFFSET or POST /dev/auth-time applies.
function parseAuthAge(value) {
  const text = (value ?? '').trim();
  if (!text) return authTimeOffset();
  const age = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  return age <= MAX_AUTH_AGE ? age : undefined;
}

function login(accountId, authAge) {
  return { login: { accountId, ts: Math.floor(Date.now() / 1000) - authAge } };
}

function finishLogin(provider, req, res, accountId, authAge) {
  return provider.interactionFinished(req, res, login(accountId, authAge), { mergeWithLastSubmission: false });
}

export async function showInteraction(provider, req, res, uid) {
  const interaction = await loadInteraction(provider, req, res, uid, ['login', 'consent']);
  if (interaction.prompt.name === 'consent') {
    const result = await grantConsent(provider, interaction);
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  }
  const { params } = interaction;
  const connector = directConnector(params);
  if (connector) {
    // As a connector would, once the user is back from it: signed in, no form.
    const accountId = signInWithConnector(connector.method, connector.target);
    return finishLogin(provider, req, res, accountId, authTimeOffset());
  }
  const query = new URL(req.url, 'http://local').searchParams;
  return sendHtml(res, 200, signInPage({
    uid, signUp: wantsSignUp(params), username: params.login_hint, authAge: query.get('auth_age') ?? '',
  }));
}

export async function submitLogin(provider, req, res, uid) {
  const interaction = await loadInteraction(provider, req, res, uid, ['login']);
  const form = await readForm(req);
  const username = form.get('username')?.trim() ?? '';
  const authAge = parseAuthAge(form.get('auth_age'));
  const error = (!username && 'Please enter a username.')
    || (authAge === undefined && `auth_age must be a whole number of seconds from 0 to ${MAX_AUTH_AGE}.`);
  if (error) {
    const signUp = wantsSignUp(interaction.params);
    const page = signInPage({ uid, signUp, error, username, authAge: form.get('auth_age') ?? '' });
    return sendHtml(res, 400, page);
  }
  return finishLogin(provider, req, res, signIn(username), authAge);
}
