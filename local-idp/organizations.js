// Logto's organizations, emulated: every account belongs to the same two demo organizations.
import config from './config.js';

export const ORGANIZATIONS_SCOPE = 'urn:logto:scope:organizations';
export const ORGANIZATION_ROLES_SCOPE = 'urn:logto:scope:organization_roles';
// Reserved resource: an organization permission is granted only when this was requested too.
export const ORGANIZATIONS_RESOURCE = 'urn:logto:resource:organizations';

const DEMO_ORGANIZATIONS = [
  {
    id: 'org_acme',
    name: 'Acme',
    description: 'Demo organization where every user is an admin',
    role: 'admin',
    permissions: ['read:billing', 'manage:billing', 'invite:member'],
  },
  {
    id: 'org_globex',
    name: 'Globex',
    description: 'Demo organization where every user is a member',
    role: 'member',
    permissions: ['read:billing'],
  },
];

// Every organization permission, as the scopes of the reserved organizations resource.
export const ORGANIZATION_PERMISSIONS = [
  ...new Set(DEMO_ORGANIZATIONS.flatMap((organization) => organization.permissions)),
];

export function organizationUrn(organizationId) {
  return `urn:logto:organization:${organizationId}`;
}

// The organizations an account belongs to (the same for everyone, or none when turned off).
export function membershipsOf(accountId) {
  return accountId && config.organizations ? DEMO_ORGANIZATIONS : [];
}

export function membership(accountId, organizationId) {
  return membershipsOf(accountId).find((organization) => organization.id === organizationId);
}

// The claims behind the organization scopes; oidc-provider keeps those of the granted scopes.
export function organizationClaims(accountId, use) {
  const organizations = membershipsOf(accountId);
  return {
    organizations: organizations.map(({ id }) => id),
    organization_roles: organizations.map(({ id, role }) => `${id}:${role}`),
    // Like Logto: the organizations' details only at the userinfo endpoint.
    ...(use === 'userinfo' && {
      organization_data: organizations.map(({ id, name, description }) => ({ id, name, description })),
    }),
  };
}
