// Accounts live in memory and are created on first sign-in.
import { createHash } from 'node:crypto';

import { organizationClaims } from './organizations.js';

const accounts = new Map();

// Stable across restarts, so the same username always gets the same subject.
export function accountIdFor(username) {
  return `user_${createHash('sha256').update(username).digest('hex').slice(0, 12)}`;
}

export function usernameOf(accountId) {
  return accounts.get(accountId)?.username;
}

export function signIn(username) {
  const accountId = accountIdFor(username);
  if (!accounts.has(accountId)) {
    const now = Date.now();
    accounts.set(accountId, {
      sub: accountId,
      username,
      name: username.charAt(0).toUpperCase() + username.slice(1),
      picture: null,
      created_at: now,
      updated_at: now,
      email: `${username}@example.test`,
      email_verified: false,
    });
  }
  return accountId;
}

export async function findAccount(ctx, sub) {
  const claims = accounts.get(sub);
  if (!claims) return undefined;
  return {
    accountId: sub,
    claims: async (use) => ({ ...claims, ...organizationClaims(sub, use) }),
  };
}
