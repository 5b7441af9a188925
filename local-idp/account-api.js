// Logto's Account API for the signed-in user (GET/PATCH /api/my-account), emulated.
//
// Answers as Logto core does (routes/account/index.ts, middlewares/koa-account-center.ts,
// middleware/koa-auth/koa-oidc-auth.ts, koa-guard.ts, koa-slonik-error-handler.ts): the same
// checks in the same order, the same status codes, error `code`s and English messages.
import { profileOf, updateProfile } from './accounts.js';
import { accountCenter } from './switches.js';

export const ACCOUNT_API_PATH = '/api/my-account';
const MAX_BODY_BYTES = 16 * 1024;
// Column sizes of Logto's users table (packages/schemas/tables/users.sql).
const NAME_MAX = 128;
const AVATAR_MAX = 2048;

const MESSAGES = {
  'auth.authorization_header_missing': 'Authorization header is missing.',
  'auth.authorization_token_type_not_supported': 'Authorization type is not supported.',
  'auth.unauthorized': 'Unauthorized. Please check credentials and its scope.',
  'auth.forbidden': 'Forbidden. Please check your user roles and permissions.',
  'account_center.not_enabled': 'Account center is not enabled.',
  'account_center.field_not_editable': 'Field is not editable.',
  'guard.invalid_input': 'The request body is invalid.',
  'entity.value_too_long': 'The length of value is too long and exceeds the limit.',
  'verification_record.permission_denied': 'Permission denied, please re-authenticate.',
};

// Logto's RequestError: status plus a JSON body {code, message, data?, details?}.
class AccountApiError extends Error {
  constructor(status, code, extra = {}) {
    super(MESSAGES[code]);
    this.status = status;
    this.body = { code, message: MESSAGES[code], ...extra };
  }
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

// koa-oidc-auth: the user's opaque access token (the userinfo one), found in the provider's store.
async function authenticate(provider, req) {
  const { authorization } = req.headers;
  if (!authorization) throw new AccountApiError(401, 'auth.authorization_header_missing');
  if (!authorization.startsWith('Bearer')) {
    throw new AccountApiError(401, 'auth.authorization_token_type_not_supported', { data: { supportedTypes: ['Bearer'] } });
  }
  // A JWT (API or organization token) is not in the store: find() gives nothing, as in Logto.
  const token = await provider.AccessToken.find(authorization.slice('Bearer '.length));
  // find() leaves out expired tokens; an opaque token for an API would have an audience.
  if (!token?.accountId || token.isExpired || token.aud !== undefined) {
    throw new AccountApiError(401, 'auth.unauthorized');
  }
  if (!token.scopes.has('openid')) throw new AccountApiError(403, 'auth.forbidden');
  return { accountId: token.accountId, scopes: token.scopes };
}

function readable(control) {
  return control === 'ReadOnly' || control === 'Edit';
}

// getScopedProfile + getAccountCenterFilteredProfile: what the token's scopes and the
// Account Center's field controls let the user see.
function visibleProfile(profile, scopes, fields) {
  const scoped = {
    id: profile.id,
    ...(scopes.has('identities') && { identities: profile.identities }),
    ...(scopes.has('custom_data') && { customData: profile.customData }),
    ...(scopes.has('email') && { primaryEmail: profile.primaryEmail }),
    ...(scopes.has('phone') && { primaryPhone: profile.primaryPhone }),
    ...(scopes.has('profile') && {
      name: profile.name,
      avatar: profile.avatar,
      username: profile.username,
      profile: profile.profile,
      lastSignInAt: profile.lastSignInAt,
      createdAt: profile.createdAt,
      updatedAt: profile.updatedAt,
      applicationId: profile.applicationId,
      isSuspended: profile.isSuspended,
      hasPassword: profile.hasPassword,
    }),
  };
  const gated = {
    name: 'name', avatar: 'avatar', username: 'username', primaryEmail: 'email', primaryPhone: 'phone',
    profile: 'profile', customData: 'customData', identities: 'social', hasPassword: 'password',
  };
  const visible = Object.fromEntries(Object.entries(scoped)
    .filter(([key]) => !(key in gated) || readable(fields[gated[key]])));
  return { ...visible, hasSecurityVerificationMethod: false };
}

async function readBody(req) {
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > MAX_BODY_BYTES) throw new AccountApiError(413, 'guard.invalid_input');
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!raw.trim()) return {};
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw));
  if (type !== 'application/json' && !type.endsWith('+json')) return {};
  try {
    return JSON.parse(raw);
  } catch (error) {
    // koa-error-handler: a body that is not JSON is a 400 with the parser's message.
    throw Object.assign(new AccountApiError(400, 'guard.invalid_input'), { body: { message: error.message } });
  }
}

function invalidInput(path, expected) {
  return new AccountApiError(400, 'guard.invalid_input', {
    details: `Error in key path "${path}": (invalid_type) Expected ${expected}.`,
  });
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// The PATCH body guard: {name?: string|null, avatar?: url|null, username?: string|null, customData?: object}.
function guardPatch(body) {
  if (!isObject(body)) throw invalidInput('', 'object');
  const { name, avatar, username, customData } = body;
  if (name !== undefined && name !== null && typeof name !== 'string') throw invalidInput('name', 'string');
  if (avatar !== undefined && avatar !== null && (typeof avatar !== 'string' || !URL.canParse(avatar))) {
    throw invalidInput('avatar', 'url');
  }
  if (username !== undefined && username !== null && (typeof username !== 'string' || !/^[A-Z_a-z]\w*$/.test(username))) {
    throw invalidInput('username', 'a username');
  }
  if (customData !== undefined && !isObject(customData)) throw invalidInput('customData', 'object');
  return { name, avatar, username, customData };
}

function characters(value) {
  return value == null ? 0 : [...value].length;
}

async function patchAccount(req, auth, fields) {
  const { name, avatar, username, customData } = guardPatch(await readBody(req));
  for (const [value, field] of [[name, 'name'], [avatar, 'avatar'], [username, 'username'], [customData, 'customData']]) {
    if (value !== undefined && fields[field] !== 'Edit') throw new AccountApiError(400, 'account_center.field_not_editable');
  }
  if (!auth.scopes.has('profile')) throw new AccountApiError(400, 'auth.unauthorized');
  if (customData !== undefined && !auth.scopes.has('custom_data')) throw new AccountApiError(400, 'auth.unauthorized');
  // Changing the username needs a verification record (logto-verification-id): not emulated.
  if (username !== undefined) throw new AccountApiError(401, 'verification_record.permission_denied');
  // The database refuses what does not fit its varchar columns (PostgreSQL error 22001).
  for (const [value, max] of [[name, NAME_MAX], [avatar, AVATAR_MAX]]) {
    if (characters(value) > max) {
      throw new AccountApiError(422, 'entity.value_too_long', {
        data: { message: `value too long for type character varying(${max})` },
      });
    }
  }
  return updateProfile(auth.accountId, { name, avatar, customData });
}

async function answer(provider, req) {
  const auth = await authenticate(provider, req);
  const { enabled, fields } = accountCenter();
  if (!enabled) throw new AccountApiError(400, 'account_center.not_enabled');
  if (!profileOf(auth.accountId)) throw new AccountApiError(401, 'auth.unauthorized');
  const profile = req.method === 'PATCH' ? await patchAccount(req, auth, fields) : profileOf(auth.accountId);
  return visibleProfile(profile, auth.scopes, fields);
}

// GET or PATCH /api/my-account; anything else under /api/ is not emulated.
export async function handleAccountApi(provider, req, res, path) {
  if (path !== ACCOUNT_API_PATH) {
    return sendJson(res, 404, { message: `The local provider does not emulate ${path}.` });
  }
  if (req.method !== 'GET' && req.method !== 'PATCH') {
    res.setHeader('allow', 'GET, PATCH');
    return sendJson(res, 405, { message: 'Method Not Allowed' });
  }
  try {
    return sendJson(res, 200, await answer(provider, req));
  } catch (error) {
    if (!(error instanceof AccountApiError)) throw error;
    return sendJson(res, error.status, error.body);
  }
}
