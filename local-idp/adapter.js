// In-memory storage for oidc-provider models: one Map of entries with an expiry.
const entries = new Map();
// grantId -> keys of the tokens issued under it, so a whole grant can be revoked.
const grants = new Map();
const grantable = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);

function read(key) {
  const entry = entries.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt && entry.expiresAt <= Date.now()) {
    entries.delete(key);
    return undefined;
  }
  return entry.value;
}

function write(key, value, expiresIn) {
  const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
  entries.set(key, { value, expiresAt });
}

export default class MemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    write(this.key(id), payload, expiresIn);
    if (payload.uid && this.model === 'Session') write(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) write(`userCode:${payload.userCode}`, this.key(id), expiresIn);
    if (payload.grantId && grantable.has(this.model)) {
      if (!grants.has(payload.grantId)) grants.set(payload.grantId, new Set());
      grants.get(payload.grantId).add(this.key(id));
    }
  }

  async find(id) {
    return read(this.key(id));
  }

  async findByUid(uid) {
    const id = read(`sessionUid:${uid}`);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode) {
    const key = read(`userCode:${userCode}`);
    return key ? read(key) : undefined;
  }

  async consume(id) {
    const payload = read(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) entries.delete(key);
    grants.delete(grantId);
  }
}
