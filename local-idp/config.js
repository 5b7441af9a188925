// Settings from the environment; every variable is optional.
const env = process.env;

const DEFAULT_API_RESOURCES = 'http://localhost:3000/api=read:profile write:profile';

function list(value, fallback) {
  const items = (value ?? fallback).split(',').map((item) => item.trim()).filter(Boolean);
  return items.length ? items : fallback.split(',');
}

function seconds(value, fallback) {
  const number = Number.parseInt(value ?? '', 10);
  return Number.isInteger(number) && number > 0 ? number : fallback;
}

function absoluteUrl(value, name) {
  if (!URL.canParse(value)) throw new Error(`${name}: ${JSON.stringify(value)} is not an absolute URL`);
  return value;
}

// `indicator=scope scope;indicator=scope` -> Map of indicator -> [scopes]; empty means no API.
export function parseApiResources(value) {
  const resources = new Map();
  for (const entry of value.split(';').map((item) => item.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    const indicator = absoluteUrl((at < 0 ? entry : entry.slice(0, at)).trim(), 'IDP_API_RESOURCES');
    const scopes = at < 0 ? [] : entry.slice(at + 1).split(/\s+/).filter(Boolean);
    resources.set(indicator, scopes);
  }
  return resources;
}

function enabled(value, fallback) {
  if (value === undefined || value === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(value.trim().toLowerCase());
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
  backchannelLogoutUri: env.IDP_BACKCHANNEL_LOGOUT_URI
    ? absoluteUrl(env.IDP_BACKCHANNEL_LOGOUT_URI, 'IDP_BACKCHANNEL_LOGOUT_URI') : undefined,
  accessTokenTtl: seconds(env.IDP_ACCESS_TOKEN_TTL, 3600),
  apiResources: parseApiResources(env.IDP_API_RESOURCES ?? DEFAULT_API_RESOURCES),
  organizations: enabled(env.IDP_ORGANIZATIONS, true),
};
