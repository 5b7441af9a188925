// API resources (RFC 8707 resource indicators), configured like Logto's.
import { errors } from 'oidc-provider';

import { ORGANIZATION_PERMISSIONS, ORGANIZATIONS_RESOURCE } from './organizations.js';

// Access tokens for a resource are JWTs (`typ: at+jwt`) signed like the ID tokens.
export function jwtResourceServer(scopes, alg) {
  return { scope: scopes.join(' '), accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
}

// features.resourceIndicators: `apiResources` maps each indicator to its scopes.
export function resourceIndicators(apiResources, alg) {
  return {
    enabled: true,
    // Without a `resource`, tokens are opaque and good for the userinfo endpoint only, as in Logto.
    defaultResource: async () => undefined,
    useGrantedResource: async () => false,
    getResourceServerInfo: async (ctx, indicator) => {
      if (indicator === ORGANIZATIONS_RESOURCE) return jwtResourceServer(ORGANIZATION_PERMISSIONS, alg);
      const scopes = apiResources.get(indicator);
      if (!scopes) throw new errors.InvalidTarget(`unknown resource indicator ${indicator}`);
      return jwtResourceServer(scopes, alg);
    },
  };
}
