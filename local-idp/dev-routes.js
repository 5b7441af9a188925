// Test switches under /dev/ (development only): loopback clients and JSON bodies only.
import {
  accountCenter, authTimeOffset, setAuthTimeOffset, updateAccountCenter,
} from './switches.js';

const MAX_BODY_BYTES = 16 * 1024;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

class DevRouteError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

// Only application/json, which a cross-site form cannot send (and fetch cannot without CORS).
async function readJson(req) {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new DevRouteError(415, 'send Content-Type: application/json');
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > MAX_BODY_BYTES) throw new DevRouteError(413, 'request body too large');
  }
  let body;
  try {
    body = JSON.parse(raw || '{}');
  } catch (error) {
    throw new DevRouteError(400, `not JSON: ${error.message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new DevRouteError(400, 'send a JSON object');
  }
  return body;
}

function checked(change) {
  try {
    return change();
  } catch (error) {
    throw new DevRouteError(400, error.message);
  }
}

const ROUTES = {
  // Logto's Account Center switch: {"enabled": false}, {"fields": {"name": "ReadOnly"}}.
  '/dev/account-center': {
    GET: () => accountCenter(),
    POST: (body) => checked(() => updateAccountCenter(body)),
  },
  // {"offset": 3600}: every following sign-in's auth_time is an hour old (0 turns it off).
  '/dev/auth-time': {
    GET: () => ({ offset: authTimeOffset() }),
    POST: (body) => ({ offset: checked(() => setAuthTimeOffset(body.offset)) }),
  },
};

export function isDevRoute(path) {
  return Object.hasOwn(ROUTES, path);
}

export async function handleDevRoute(req, res, path) {
  const methods = ROUTES[path];
  const method = req.method === 'PATCH' ? 'POST' : req.method;
  try {
    if (!LOOPBACK.has(req.socket.remoteAddress)) throw new DevRouteError(403, 'test switches answer loopback clients only');
    if (!methods[method]) {
      res.setHeader('allow', 'GET, POST, PATCH');
      throw new DevRouteError(405, 'use GET, or POST/PATCH a JSON object');
    }
    const body = method === 'POST' ? await readJson(req) : undefined;
    return sendJson(res, 200, methods[method](body));
  } catch (error) {
    if (!(error instanceof DevRouteError)) throw error;
    return sendJson(res, error.status, { error: error.message });
  }
}
