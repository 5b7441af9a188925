// Settings from the environment; every variable is optional.
const env = process.env;

function list(value, fallback) {
  const items = (value ?? fallback).split(',').map((item) => item.trim()).filter(Boolean);
  return items.length ? items : fallback.split(',');
}

function seconds(value, fallback) {
  const number = Number.parseInt(value ?? '', 10);
  return Number.isInteger(number) && number > 0 ? number : fallback;
}

const port = seconds(env.IDP_PORT, 3001);
const publicUrl = (env.IDP_PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, '');

export default {
  host: env.IDP_HOST || '127.0.0.1',
  port,
  publicUrl,
  issuer: `${publicUrl}/oidc`,
  clientId: env.IDP_CLIENT_ID || 'dev-app',
  clientSecret: env.IDP_CLIENT_SECRET || 'dev-secret-change-me',
  redirectUris: list(env.IDP_REDIRECT_URIS, 'http://localhost:3000/callback'),
  postLogoutRedirectUris: list(env.IDP_POST_LOGOUT_REDIRECT_URIS, 'http://localhost:3000/'),
  accessTokenTtl: seconds(env.IDP_ACCESS_TOKEN_TTL, 3600),
};
