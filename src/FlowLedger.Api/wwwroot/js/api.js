// The dashboard is an ordinary client of the public HTTP API (docs/api.md); nothing here is private.

import { authorization } from './access.js';

export class ApiProblem extends Error {
  constructor(url, status, detail) {
    super(`${url} answered ${status}${detail ? `: ${detail}` : ''}`);
    this.status = status;
  }
}

function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== null && value !== undefined && value !== '') {
      search.set(name, value);
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function getJson(path, parameters = {}, signal = undefined) {
  const url = path + query(parameters);
  const response = await fetch(url, { signal, headers: { Accept: 'application/json', ...authorization() } });
  if (!response.ok) {
    let detail = '';
    try {
      detail = (await response.json()).detail ?? '';
    } catch {
      // A problem without a JSON body still has its status to report.
    }
    throw new ApiProblem(url, response.status, detail);
  }
  return response.json();
}

export const api = {
  access: () => getJson('/api/access'),
  companies: (signal) => getJson('/api/companies', {}, signal),
  events: (afterSequence, limit, signal) => getJson('/api/events', { afterSequence, limit }, signal),
  balances: (point, signal) => getJson('/api/balances', point, signal),
  companyBalance: (companyId, point, signal) =>
    getJson(`/api/companies/${encodeURIComponent(companyId)}/balance`, point, signal),
  trace: (parameters, signal) => getJson('/api/trace', parameters, signal),
  loops: (parameters, signal) => getJson('/api/loops', parameters, signal),
};
