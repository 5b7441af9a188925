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

function nonNegativeSeconds(value, name) {
  if (value === undefined || value.trim() === '') return 0;
  const number = Number(value.trim());
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new Error(`${name}: ${JSON.stringify(value)} is not a whole number of seconds`);
  }
  return number;
}

// Logto's AccountCenterControlValue, per field of the Account Center.
export const FIELD_CONTROLS = ['Off', 'ReadOnly', 'Edit'];
export const ACCOUNT_CENTER_FIELDS = [
  'name', 'avatar', 'profile', 'email', 'phone', 'password', 'username', 'social', 'customData',
  'mfa', 'passkey', 'session', 'trustedDevice',
];
// What a tenant configured for the app's profile page has; any field left out is Off, as in Logto.
export const DEFAULT_ACCOUNT_CENTER_FIELDS = {
  name: 'Edit', avatar: 'Edit', username: 'ReadOnly', email: 'ReadOnly', phone: 'ReadOnly',
};

// Throws unless `fields` maps Account Center fields to Off, ReadOnly or Edit.
export function checkAccountCenterFields(fields, name = 'fields') {
  for (const [field, control] of Object.entries(fields)) {
    if (!ACCOUNT_CENTER_FIELDS.includes(field)) throw new Error(`${name}: unknown field ${JSON.stringify(field)}`);
    if (!FIELD_CONTROLS.includes(control)) {
      throw new Error(`${name}: ${field} must be one of ${FIELD_CONTROLS.join(', ')}, not ${JSON.stringify(control)}`);
    }
  }
  return fields;
}

// `name=Edit avatar=ReadOnly` (spaces or commas) -> fields over the defaults.
export function parseAccountCenterFields(value) {
  const fields = { ...DEFAULT_ACCOUNT_CENTER_FIELDS };
  for (const entry of (value ?? '').split(/[\s,]+/).filter(Boolean)) {
    const [field, control = ''] = entry.split('=');
    fields[field] = control;
  }
  return checkAccountCenterFields(fields, 'IDP_ACCOUNT_CENTER_FIELDS');
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
  pushedAuthorizationRequests: enabled(env.IDP_PAR, true),
  accountCenter: enabled(env.IDP_ACCOUNT_CENTER, true),
  accountCenterFields: parseAccountCenterFields(env.IDP_ACCOUNT_CENTER_FIELDS),
  authTimeOffset: nonNegativeSeconds(env.IDP_AUTH_TIME_OFFSET, 'IDP_AUTH_TIME_OFFSET'),
};
