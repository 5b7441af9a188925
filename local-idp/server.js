// Local OpenID provider for development and tests: oidc-provider mounted at /oidc, like Logto.
import http from 'node:http';

import config from './config.js';
import { showInteraction, submitLogin } from './interactions.js';
import { createProvider } from './provider.js';
import { errorPage } from './views.js';

const PREFIX = '/oidc';
const INTERACTION_PATH = /^\/interaction\/([\w-]+)(\/login)?$/;

const provider = createProvider(config);
const oidc = provider.callback();
provider.on('server_error', (ctx, err) => console.error('local-idp server error:', err));

function sendError(res, status, error, description) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(errorPage(error, description));
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
