// Counters for tests (GET /dev/stats), fed by oidc-provider's events.
const counts = {
  authorization_code_grants: 0,
  refresh_token_grants: 0,
  refresh_token_grant_errors: 0,
  backchannel_logouts_sent: 0,
  backchannel_logout_failures: 0,
  sessions_ended: 0,
};

function grantType(ctx) {
  return ctx.oidc?.params?.grant_type;
}

export function countEvents(provider) {
  provider.on('grant.success', (ctx) => {
    if (grantType(ctx) === 'authorization_code') counts.authorization_code_grants += 1;
    if (grantType(ctx) === 'refresh_token') counts.refresh_token_grants += 1;
  });
  provider.on('grant.error', (ctx) => {
    if (grantType(ctx) === 'refresh_token') counts.refresh_token_grant_errors += 1;
  });
  provider.on('backchannel.success', () => { counts.backchannel_logouts_sent += 1; });
  provider.on('backchannel.error', (ctx, err, client) => {
    counts.backchannel_logout_failures += 1;
    console.error(`local-idp: back-channel logout to ${client.backchannelLogoutUri} failed: ${err.message}`);
  });
  provider.on('end_session.success', () => { counts.sessions_ended += 1; });
}

export function stats() {
  return { ...counts };
}
