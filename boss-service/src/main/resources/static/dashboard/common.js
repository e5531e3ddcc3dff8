// What every view of the dashboard shares: the API call with the token, the error line, table cells, number
// and time formats, ECharts instances, and artifact links that carry the token.
export const $ = (selector) => document.querySelector(selector);

export function token() { return sessionStorage.getItem('bossToken'); }

export async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (options.body) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    $('#token-form').hidden = false;
    const error = new Error('a submitter token is needed');
    error.status = 401;
    throw error;
  }
  if (!response.ok && response.status !== 204) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (ignored) { /* not JSON */ }
    const error = new Error(`${path}: ${detail}`);
    error.status = response.status;
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

export function showError(error) {
  $('#error').textContent = error.message;
  $('#error').hidden = false;
}

export function clearError() { $('#error').hidden = true; }

export function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

export function when(iso) { return iso ? new Date(iso).toLocaleString() : ''; }

// Losses and metrics span many magnitudes: five significant digits, exponents only at the extremes.
export function num(value) {
  if (typeof value !== 'number') return value ?? '';
  const size = Math.abs(value);
  if (size !== 0 && (size >= 1e6 || size < 1e-3)) return value.toExponential(3);
  return String(Number(value.toPrecision(5)));
}

export function duration(seconds) {
  if (typeof seconds !== 'number') return '';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const pad = (n) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
}

export function bytes(n) {
  if (typeof n !== 'number') return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  for (; n >= 1024 && unit < units.length - 1; unit++) n /= 1024;
  return unit === 0 ? `${n} B` : `${n.toFixed(1)} ${units[unit]}`;
}

const charts = {};

/** The ECharts instance drawn into the element with this id, made on first use. */
export function chart(id) {
  if (!charts[id]) charts[id] = echarts.init(document.getElementById(id));
  return charts[id];
}

// With tokens on, neither a link nor an <img src> carries the Authorization header: the bytes are fetched
// here, with the token, and handed to the browser as an object URL. Such a download is held whole in the
// browser's memory before it is saved; with tokens off, a link is a plain link and the browser streams it.
export async function fetchBlob(href) {
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  const response = await fetch(href, { headers });
  if (!response.ok) throw new Error(`${href}: ${response.status} ${response.statusText}`);
  return response.blob();
}

/** One artifact as a list item: a download link (with the token when there is one), or why it is gone. */
export function artifactItem(artifact) {
  const li = document.createElement('li');
  li.dataset.artifact = artifact.name;
  const size = bytes(artifact.size);
  if (artifact.pruned) {
    li.className = 'pruned';
    li.textContent = `${artifact.name} (${size}) — pruned ${when(artifact.prunedAt)}: ${artifact.prunedReason ?? ''}`;
    return li;
  }
  const a = document.createElement('a');
  a.textContent = artifact.name;
  a.href = artifact.href; // works as it is when tokens are off
  a.download = artifact.name.split('/').pop();
  a.addEventListener('click', (event) => {
    if (!token()) return;
    event.preventDefault();
    fetchBlob(artifact.href).then((blob) => {
      const save = document.createElement('a');
      save.href = URL.createObjectURL(blob);
      save.download = a.download;
      save.click();
      setTimeout(() => URL.revokeObjectURL(save.href), 60_000);
    }).catch(showError);
  });
  li.append(a, ` (${size}, ${artifact.contentType})`);
  return li;
}
