// With API keys configured (docs/security.md), the dashboard needs a key of at least the reader role.
// It is kept in this tab's sessionStorage: sent to this server only, and forgotten when the tab closes.

const storageName = 'flowledger.apiKey';

export const storedKey = () => sessionStorage.getItem(storageName);

export const rememberKey = (key) => sessionStorage.setItem(storageName, key);

export const forgetKey = () => sessionStorage.removeItem(storageName);

/** The header every request to the API carries: the key, when there is one. */
export function authorization() {
  const key = storedKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}
