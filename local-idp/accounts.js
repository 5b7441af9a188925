// Accounts live in memory and are created on first sign-in (at the form or through a connector).
import { createHash } from 'node:crypto';

import { organizationClaims } from './organizations.js';

// accountId -> { claims (the OpenID claims), lastSignInAt, identities, customData }
const accounts = new Map();

function digest(value) {
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}

// Stable across restarts, so the same username always gets the same subject.
export function accountIdFor(username) {
  return `user_${digest(username)}`;
}

export function usernameOf(accountId) {
  return accounts.get(accountId)?.claims.username;
}

function create(accountId, { username, name, email, emailVerified = false, identities = {} }) {
  const now = Date.now();
  accounts.set(accountId, {
    claims: {
      sub: accountId,
      username,
      name,
      picture: null,
      created_at: now,
      updated_at: now,
      email,
      email_verified: emailVerified,
    },
    lastSignInAt: now,
    identities,
    customData: {},
  });
}

function touch(accountId) {
  accounts.get(accountId).lastSignInAt = Date.now();
  return accountId;
}

export function signIn(username) {
  const accountId = accountIdFor(username);
  if (!accounts.has(accountId)) {
    const name = username.charAt(0).toUpperCase() + username.slice(1);
    create(accountId, { username, name, email: `${username}@example.test` });
  }
  return touch(accountId);
}

// How a connector's name is usually written, where capitalising each word is not it.
const SPELLINGS = {
  ad: 'AD', github: 'GitHub', gitlab: 'GitLab', linkedin: 'LinkedIn', oidc: 'OIDC', saml: 'SAML',
  sso: 'SSO', wechat: 'WeChat', wecom: 'WeCom',
};

function slugOf(target) {
  const slug = target.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return slug.replace(/-+$/, '') || 'connector';
}

function displayName(slug) {
  return slug.split('-')
    .map((word) => SPELLINGS[word] ?? word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

// The demo user a social (`social:<target>`) or enterprise (`sso:<connector id>`) connector
// signs in, the same one for the same connector: `social:azure-ad` is azure-ad-demo, "Azure AD Demo".
export function signInWithConnector(method, target) {
  const accountId = `user_${digest(`connector\u0000${method}:${target}`)}`;
  if (!accounts.has(accountId)) {
    const slug = slugOf(target);
    const social = method === 'social';
    const username = social ? `${slug}-demo` : `sso-${slug}-demo`;
    create(accountId, {
      username,
      name: `${displayName(slug)}${social ? '' : ' SSO'} Demo`,
      email: `${username}@example.test`,
      emailVerified: true,
      identities: social ? { [target]: { userId: `demo-${digest(target)}`, details: {} } } : {},
    });
  }
  return touch(accountId);
}

export async function findAccount(ctx, sub) {
  const account = accounts.get(sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    claims: async (use) => ({ ...account.claims, ...organizationClaims(sub, use) }),
  };
}

// The user as Logto's Account API shows it (before the scope and Account Center filters).
export function profileOf(accountId) {
  const account = accounts.get(accountId);
  if (!account) return undefined;
  const { claims } = account;
  return {
    id: accountId,
    username: claims.username,
    primaryEmail: claims.email,
    primaryPhone: null,
    name: claims.name,
    avatar: claims.picture,
    customData: { ...account.customData },
    identities: structuredClone(account.identities),
    profile: {},
    lastSignInAt: account.lastSignInAt,
    createdAt: claims.created_at,
    updatedAt: claims.updated_at,
    applicationId: null,
    isSuspended: false,
    hasPassword: false,
  };
}

// Changes what is given of `name`, `avatar` (the `picture` claim) and `customData`.
export function updateProfile(accountId, { name, avatar, customData }) {
  const account = accounts.get(accountId);
  if (name !== undefined) account.claims.name = name;
  if (avatar !== undefined) account.claims.picture = avatar;
  if (customData !== undefined) account.customData = { ...customData };
  account.claims.updated_at = Date.now();
  return profileOf(accountId);
}
