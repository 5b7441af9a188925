// Settings tests may change while the provider runs (see /dev/* in ../README.md).
import config, { checkAccountCenterFields } from './config.js';

const state = {
  accountCenter: { enabled: config.accountCenter, fields: { ...config.accountCenterFields } },
  authTimeOffset: config.authTimeOffset,
};

// Logto's tenant-wide Account Center: `enabled` and a control (Off, ReadOnly, Edit) per field.
export function accountCenter() {
  return { enabled: state.accountCenter.enabled, fields: { ...state.accountCenter.fields } };
}

// Changes what is given: `enabled`, and the `fields` named (merged into the current ones).
export function updateAccountCenter({ enabled, fields }) {
  if (enabled !== undefined && typeof enabled !== 'boolean') throw new Error('enabled must be true or false');
  if (fields !== undefined && (fields === null || typeof fields !== 'object' || Array.isArray(fields))) {
    throw new Error('fields must be an object such as {"name": "Edit"}');
  }
  checkAccountCenterFields(fields ?? {});
  if (enabled !== undefined) state.accountCenter.enabled = enabled;
  Object.assign(state.accountCenter.fields, fields);
  return accountCenter();
}

// Seconds to take off the auth_time of every sign-in that does not set its own auth_age.
export function authTimeOffset() {
  return state.authTimeOffset;
}

export function setAuthTimeOffset(seconds) {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new Error('offset must be a whole number of seconds, 0 or more');
  state.authTimeOffset = seconds;
  return state.authTimeOffset;
}
