// The refresh_token grant with Logto's organization tokens (`organization_id`, Logto RFC 0001).
//
// oidc-provider's own handler does the work (checks, rotation, reuse detection, ID token); this
// wrapper refuses bad requests before the handler rotates the refresh token, and turns the
// access token into an organization token when `organization_id` is asked for.
import { errors } from 'oidc-provider';
import {
  handler as refreshTokenHandler,
  parameters as refreshTokenParameters,
} from 'oidc-provider/lib/actions/grants/refresh_token.js';

import {
  membership, ORGANIZATIONS_RESOURCE, ORGANIZATIONS_SCOPE, organizationUrn,
} from './organizations.js';
import { jwtResourceServer } from './resources.js';

const {
  AccessDenied, InsufficientScope, InvalidRequest, InvalidTarget,
} = errors;

function notAMember() {
  const error = new AccessDenied('user is not a member of the organization');
  error.status = 403;
  error.statusCode = 403;
  return error;
}

// oidc-provider finds an unknown resource only after rotating the refresh token, and knows
// nothing of organizations: check both first, so that a refused request does not spend the
// client's refresh token. Problems with the token itself are left to oidc-provider.
async function checkBeforeRotation(ctx) {
  const { params, client, provider } = ctx.oidc;
  if (typeof params.refresh_token !== 'string') return;
  const token = await provider.RefreshToken.find(params.refresh_token, { ignoreExpiration: true });
  if (!token || token.consumed || token.isExpired || token.clientId !== client.clientId) return;

  if (params.resource) {
    if (Array.isArray(params.resource)) {
      throw new InvalidTarget('only a single resource indicator value must be requested');
    }
    if (params.organization_id) {
      throw new InvalidRequest('the local provider does not issue organization-scoped API tokens (resource with organization_id)');
    }
    if (!token.resourceIndicators.has(params.resource)) {
      throw new InvalidTarget('the resource was not requested at sign-in');
    }
  } else if (params.organization_id) {
    if (!token.scopes.has(ORGANIZATIONS_SCOPE)) {
      throw new InsufficientScope('refresh token missing required scope', ORGANIZATIONS_SCOPE);
    }
    if (!membership(token.accountId, params.organization_id)) throw notAMember();
  }
}

// Like Logto: audience urn:logto:organization:<id>; scope = the user's permissions in that
// organization that the sign-in asked for as scopes, together with the organizations resource.
function makeOrganizationToken(ctx, accessToken, organizationId, alg) {
  const { oidc } = ctx;
  const { RefreshToken: refreshToken, Grant: grant } = oidc.entities;
  const requested = oidc.params.scope ? oidc.requestParamScopes : refreshToken.scopes;
  const granted = new Set(grant.getResourceScope(ORGANIZATIONS_RESOURCE).split(' '));
  const permissions = membership(accessToken.accountId, organizationId)?.permissions ?? [];
  const audience = organizationUrn(organizationId);

  accessToken.claims = undefined;
  accessToken.resourceServer = new oidc.provider.ResourceServer(
    audience,
    { ...jwtResourceServer(permissions, alg), audience },
  );
  accessToken.scope = permissions
    .filter((permission) => requested.has(permission) && granted.has(permission))
    .join(' ');
}

// Without `resource`, oidc-provider's handler builds an opaque (userinfo) access token and
// records it with ctx.oidc.entity() just before saving it: change it into the organization
// token there, so that the response and the ID token's at_hash are about the right token.
function issueOrganizationToken(ctx, organizationId, alg) {
  const { oidc } = ctx;
  const setEntity = oidc.entity.bind(oidc);
  oidc.entity = (name, value) => {
    if (name === 'AccessToken') makeOrganizationToken(ctx, value, organizationId, alg);
    setEntity(name, value);
  };
}

export function registerRefreshTokenGrant(provider, alg) {
  async function refreshTokenGrant(ctx, next) {
    await checkBeforeRotation(ctx);
    const { organization_id: organizationId, resource } = ctx.oidc.params;
    if (organizationId && !resource) issueOrganizationToken(ctx, organizationId, alg);
    return refreshTokenHandler(ctx, next);
  }

  const parameters = new Set([...refreshTokenParameters, 'resource', 'organization_id']);
  provider.registerGrantType('refresh_token', refreshTokenGrant, parameters, ['resource']);
}
