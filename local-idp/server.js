// Local OpenID provider for development and tests: oidc-provider mounted at /oidc, like Logto.
import http from 'node:http';

import { handleAccountApi } from './account-api.js';
import { usernameOf } from './accounts.js';
import config from './config.js';
import { handleDevRoute, isDevRoute } from './dev-routes.js';
import { showInteraction, submitLogin } from './interactions.js';
import { createProvider } from './provider.js';
import { stats } from './stats.js';
import { errorPage, signOutPage } from './views.js';

const PREFIX = '/oidc';
const INTERACTION_PATH = /^\/interaction\/([\w-]+)(\/login)?$/;

const provider = createProvider(config);
const oidc = provider.callback();
provider.on('server_error', (ctx, err) => console.error('local-idp server error:', err));

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function sendError(res, status, error, description) {
  send(res, status, 'text/html; charset=utf-8', errorPage(error, description));
}

// The provider's own sign-out page, for the session of the browser that asks.
async function showSignOut(req, res) {
  const session = await provider.Session.get(provider.app.createContext(req, res));
  const page = signOutPage({ username: usernameOf(session.accountId) });
  return send(res, 200, 'text/html; charset=utf-8', page);
}

// oidc-provider works out its mount path from req.originalUrl minus req.url.
function mountOidc(req, res) {
  req.originalUrl = req.url;
  req.url = req.url.slice(PREFIX.length);
  return oidc(req, res);
}

async function route(req, res) {
  const path = req.url.split('?')[0];
  if (path.startsWith(`${PREFIX}/`)) return mountOidc(req, res);
  if (path === '/api' || path.startsWith('/api/')) return handleAccountApi(provider, req, res, path);
  if (isDevRoute(path)) return handleDevRoute(req, res, path);

  if (path === '/sign-out' && req.method === 'GET') return showSignOut(req, res);
  if (path === '/dev/stats' && req.method === 'GET') {
    return send(res, 200, 'application/json', JSON.stringify(stats()));
  }

  const [, uid, login] = INTERACTION_PATH.exec(path) ?? [];
  if (uid && !login && req.method === 'GET') return showInteraction(provider, req, res, uid);
  if (uid && login && req.method === 'POST') return submitLogin(provider, req, res, uid);
  return sendError(res, 404, 'not_found', `Nothing at ${path}. The OpenID provider lives under ${PREFIX}/.`);
}

function fail(res, err) {
  if (res.headersSent) return res.destroy();
  if (err.expose) return sendError(res, err.status, err.error ?? 'invalid_request', err.error_description);
  console.error('local-idp error:', err);
  return sendError(res, 500, 'server_error', 'Unexpected error, see the identity provider log.');
}

const server = http.createServer((req, res) => {
  route(req, res).catch((err) => fail(res, err));
});

server.on('error', (err) => {
  console.error(`local-idp could not listen on ${config.host}:${config.port}: ${err.message}`);
  process.exit(1);
});

server.listen(config.port, config.host, () => {
  console.log(`Local identity provider (development only) listening on ${config.issuer}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
