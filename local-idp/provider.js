// oidc-provider configured like Logto's OIDC server (see ../README.md for the env vars).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

import { findAccount } from './accounts.js';
import MemoryAdapter from './adapter.js';
import { ORGANIZATION_ROLES_SCOPE, ORGANIZATIONS_SCOPE } from './organizations.js';
import { registerRefreshTokenGrant } from './refresh-grant.js';
import { resourceIndicators } from './resources.js';
import { countEvents } from './stats.js';
import { errorPage, logoutPage, signedOutPage } from './views.js';

const DAY = 24 * 60 * 60;
const SIGNING_ALG = 'ES384';

// A fresh P-384 key on every start, as Logto signs ID tokens with ES384.
function signingKeys() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), alg: SIGNING_ALG, use: 'sig' }] };
}

function client(config) {
  return {
    client_id: config.clientId,
    client_secret: config.clientSecret,
    client_name: 'Local development app',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: config.redirectUris,
    post_logout_redirect_uris: config.postLogoutRedirectUris,
    id_token_signed_response_alg: SIGNING_ALG,
    // Like Logto's "Backchannel logout URI" with "Is session required?": ID tokens carry `sid`.
    ...(config.backchannelLogoutUri && {
      backchannel_logout_uri: config.backchannelLogoutUri,
      backchannel_logout_session_required: true,
    }),
  };
}

function allowedOrigins(config) {
  return new Set([...config.redirectUris, ...config.postLogoutRedirectUris].map((uri) => new URL(uri).origin));
}

export function createProvider(config) {
  const origins = allowedOrigins(config);
  const cookie = { signed: true, httpOnly: true, sameSite: 'lax' };

  const provider = new Provider(config.issuer, {
    adapter: MemoryAdapter,
    clients: [client(config)],
    findAccount,
    jwks: signingKeys(),
    cookies: { keys: [randomBytes(32).toString('base64url')], long: cookie, short: cookie },
    claims: {
      openid: ['sub'],
      profile: ['name', 'username', 'picture', 'created_at', 'updated_at'],
      email: ['email', 'email_verified'],
      [ORGANIZATIONS_SCOPE]: ['organizations', 'organization_data'],
      [ORGANIZATION_ROLES_SCOPE]: ['organization_roles'],
    },
    scopes: [
      'openid', 'offline_access', 'profile', 'email', ORGANIZATIONS_SCOPE, ORGANIZATION_ROLES_SCOPE,
    ],
    conformIdTokenClaims: false,
    // Logto's authorization parameters (login_hint is a standard one); identifier and
    // organization_id are accepted and change nothing.
    extraParams: ['interaction_mode', 'first_screen', 'direct_sign_in', 'identifier', 'organization_id'],
    responseTypes: ['code'],
    pkce: { methods: ['S256'], required: () => true },
    rotateRefreshToken: true,
    enabledJWA: {
      idTokenSigningAlgValues: [SIGNING_ALG],
      userinfoSigningAlgValues: [SIGNING_ALG],
      introspectionSigningAlgValues: [SIGNING_ALG],
      authorizationSigningAlgValues: [SIGNING_ALG],
    },
    features: {
      devInteractions: { enabled: false },
      // RFC 9126 at Logto's path, /oidc/request; the client authenticates as at the token endpoint.
      pushedAuthorizationRequests: {
        enabled: config.pushedAuthorizationRequests,
        requirePushedAuthorizationRequests: false,
      },
      resourceIndicators: resourceIndicators(config.apiResources, SIGNING_ALG),
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => { ctx.type = 'html'; ctx.body = logoutPage(form); },
        postLogoutSuccessSource: async (ctx) => { ctx.type = 'html'; ctx.body = signedOutPage(); },
      },
    },
    routes: { pushed_authorization_request: '/request' },
    interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: config.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      RefreshToken: 14 * DAY,
      Interaction: 60 * 60,
      Session: 14 * DAY,
      Grant: 14 * DAY,
    },
    clientBasedCORS: (ctx, origin) => origins.has(origin),
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = errorPage(out.error, out.error_description);
    },
  });
  registerRefreshTokenGrant(provider, SIGNING_ALG);
  countEvents(provider);
  return provider;
}
