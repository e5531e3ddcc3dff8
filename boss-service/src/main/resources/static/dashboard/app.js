// The Boss dashboard: plain ES module, no build step. Every call carries the submitter token, asked
// for once (on the first 401) and kept in sessionStorage for this tab only.
const $ = (selector) => document.querySelector(selector);
const state = { job: null, logAbort: null, charts: {} };

function token() { return sessionStorage.getItem('bossToken'); }

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (options.body) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    $('#token-form').hidden = false;
    throw new Error('a submitter token is needed');
  }
  if (!response.ok && response.status !== 204) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (ignored) { /* not JSON */ }
    throw new Error(`${path}: ${detail}`);
  }
  return response.status === 204 ? null : response.json();
}

function showError(error) {
  $('#error').textContent = error.message;
  $('#error').hidden = false;
}

function clearError() { $('#error').hidden = true; }

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function when(iso) { return iso ? new Date(iso).toLocaleString() : ''; }

// ---- queue ---------------------------------------------------------------------------------------
async function refreshQueue() {
  const stats = await api('/stats');
  for (const [status, count] of Object.entries(stats.queue)) {
    const span = document.querySelector(`#queue [data-status="${status}"] b`);
    if (span) span.textContent = count;
  }
}

// ---- jobs ----------------------------------------------------------------------------------------
async function refreshProjects() {
  const projects = await api('/projects');
  for (const select of [$('#filter-project'), $('#board-project')]) {
    const current = select.value;
    const keepAll = select.id === 'filter-project';
    select.replaceChildren(...(keepAll ? [new Option('all', '')] : []), ...projects.map((p) => new Option(p, p)));
    if ([...select.options].some((o) => o.value === current)) select.value = current;
  }
}

async function refreshJobs() {
  const params = new URLSearchParams({ size: '100' });
  if ($('#filter-project').value) params.set('project', $('#filter-project').value);
  if ($('#filter-status').value) params.set('status', $('#filter-status').value);
  const page = await api(`/jobs?${params}`);
  const body = $('#jobs-table tbody');
  body.replaceChildren();
  for (const { order, job } of page.items) {
    const row = body.insertRow();
    row.dataset.jobId = order.jobId;
    row.dataset.status = order.status;
    cell(row, order.jobId.slice(-8));
    cell(row, order.projectName);
    cell(row, order.scriptName);
    cell(row, order.status, `status-${order.status}`);
    cell(row, order.attempt);
    cell(row, order.assignedTo);
    cell(row, when(order.createdDate));
    const actions = row.insertCell();
    if (['unassigned', 'assigned', 'running'].includes(order.status)) {
      actions.append(button('Cancel', 'cancel-job', () => cancel(order.jobId)));
    }
    if (job) actions.append(button('Re-run', 'rerun-job', () => rerun(job)));
    row.addEventListener('click', () => openJob(order.jobId));
  }
}

function button(label, className, action) {
  const b = document.createElement('button');
  b.textContent = label;
  b.className = className;
  b.addEventListener('click', (event) => { event.stopPropagation(); action().catch(showError); });
  return b;
}

async function cancel(jobId) {
  await api(`/jobs/${jobId}/cancel`, { method: 'POST' });
  await refreshJobs();
}

async function rerun(job) {
  const copy = { ...job };
  delete copy._id;
  delete copy.assignmentId;
  delete copy.callbackAddress;
  const created = await api('/job/create', { method: 'POST', body: JSON.stringify(copy) });
  await refreshJobs();
  await openJob(created.jobId);
}

// ---- job page ------------------------------------------------------------------------------------
async function openJob(jobId) {
  state.job = jobId;
  const detail = await api(`/jobs/${jobId}`);
  $('#job-detail').hidden = false;
  $('#job-id').textContent = jobId;
  $('#job-status').textContent = detail.order.status;
  $('#job-status').className = `status-${detail.order.status}`;
  $('#job-params').textContent = JSON.stringify(detail.job, null, 2);
  $('#job-outcome').textContent = detail.outcome ? JSON.stringify(detail.outcome, null, 2) : '(none yet)';
  $('#job-timeline').replaceChildren(...detail.order.history.map((h) => {
    const li = document.createElement('li');
    li.textContent = `${when(h.at)} — ${h.status}${h.node ? ` on ${h.node}` : ''} (attempt ${h.attempt}): ${h.reason || ''}`;
    return li;
  }));
  followLog(jobId);
}

// EventSource cannot send an Authorization header, so the SSE stream is read through fetch.
async function followLog(jobId) {
  if (state.logAbort) state.logAbort.abort();
  const abort = new AbortController();
  state.logAbort = abort;
  const log = $('#job-log');
  log.textContent = '';
  $('#log-state').textContent = '(following)';
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  try {
    const response = await fetch(`/jobs/${jobId}/logs?follow=true`, { headers, signal: abort.signal });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event.name === 'log') {
          log.textContent += event.data;
          log.scrollTop = log.scrollHeight;
        } else if (event.name === 'end') {
          $('#log-state').textContent = `(${event.data})`;
          if (state.job === jobId) openJobQuietly(jobId);
        }
      }
    }
  } catch (error) {
    if (error.name !== 'AbortError') $('#log-state').textContent = `(${error.message})`;
  }
}

async function openJobQuietly(jobId) {
  const detail = await api(`/jobs/${jobId}`);
  $('#job-status').textContent = detail.order.status;
  $('#job-outcome').textContent = detail.outcome ? JSON.stringify(detail.outcome, null, 2) : '(none)';
}

function parseEvent(text) {
  const event = { name: 'message', data: [] };
  for (const line of text.split('\n')) {
    if (line.startsWith('event:')) event.name = line.slice(6).trim();
    else if (line.startsWith('data:')) event.data.push(line.slice(5).replace(/^ /, ''));
  }
  event.data = event.data.join('\n');
  return event;
}

// ---- workers -------------------------------------------------------------------------------------
async function refreshWorkers() {
  const workers = await api('/workers');
  const body = $('#workers-table tbody');
  body.replaceChildren();
  for (const w of workers) {
    const row = body.insertRow();
    row.dataset.node = w.name;
    cell(row, w.name);
    cell(row, w.state, `state-${w.state}`);
    cell(row, (w.labels || []).join(', '));
    cell(row, (w.gpus || []).map((g) => `${g.model} ${Math.round((g.memoryMb || 0) / 1024)} GiB`).join(', '));
    cell(row, (w.currentJobs || []).map((j) => j.slice(-8)).join(', '));
    cell(row, w.jobsDone);
    cell(row, w.jobsFailed);
    cell(row, when(w.lastSeenAt));
  }
}

// ---- leaderboard ---------------------------------------------------------------------------------
function chart(id) {
  if (!state.charts[id]) state.charts[id] = echarts.init(document.getElementById(id));
  return state.charts[id];
}

const SKIP = new Set(['_id', 'scriptName', 'dataFileName', 'projectName', 'depedentVariable', 'dependentVariable',
  'assignmentId', 'callbackAddress']);

function numericParams(entries) {
  const names = new Set();
  for (const e of entries) {
    for (const [k, v] of Object.entries(e.job || {})) if (typeof v === 'number' && !SKIP.has(k)) names.add(k);
  }
  return [...names].sort();
}

async function refreshLeaderboard() {
  const project = $('#board-project').value;
  if (!project) return;
  const history = await api(`/projects/${encodeURIComponent(project)}/outcomes`);
  const top = await api(`/projects/${encodeURIComponent(project)}/leaderboard?limit=10`);
  let best = Infinity;
  const points = history.map((e) => [e.finishedAt, e.loss]);
  const bestLine = history.map((e) => { best = Math.min(best, e.loss); return [e.finishedAt, best]; });
  chart('loss-chart').setOption({
    animation: false,
    title: { text: 'loss of each finished job', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'item' },
    legend: { bottom: 0 },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', scale: true, name: 'loss' },
    series: [
      { name: 'job', type: 'scatter', data: points },
      { name: 'best so far', type: 'line', step: 'end', data: bestLine, showSymbol: false },
    ],
  }, true);

  const params = numericParams(history);
  const select = $('#param-select');
  const chosen = select.value;
  select.replaceChildren(...params.map((p) => new Option(p, p)));
  if (params.includes(chosen)) select.value = chosen;
  const param = select.value;
  chart('param-chart').setOption({
    animation: false,
    title: { text: param ? `${param} against loss` : 'no numeric parameters', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'item' },
    xAxis: { type: 'value', scale: true, name: param },
    yAxis: { type: 'value', scale: true, name: 'loss' },
    series: [{ type: 'scatter', data: history.filter((e) => e.job && typeof e.job[param] === 'number')
      .map((e) => [e.job[param], e.loss]) }],
  }, true);
  renderTop(top);
}

function renderTop(top) {
  const fields = [...new Set(top.flatMap((e) => Object.keys(e.job || {})))].filter((k) => k !== '_id');
  const bestJob = top.length ? top[0].job || {} : {};
  const head = $('#top-table thead');
  head.replaceChildren();
  const headRow = head.insertRow();
  for (const name of ['rank', 'loss', 'job', ...fields]) cell(headRow, name);
  const body = $('#top-table tbody');
  body.replaceChildren();
  for (const entry of top) {
    const row = body.insertRow();
    row.dataset.jobId = entry.jobId;
    cell(row, entry.rank);
    cell(row, entry.loss?.toPrecision(6));
    cell(row, entry.jobId.slice(-8));
    for (const name of fields) {
      const value = (entry.job || {})[name];
      const same = JSON.stringify(value) === JSON.stringify(bestJob[name]);
      cell(row, typeof value === 'object' ? JSON.stringify(value) : value, same ? '' : 'diff');
    }
  }
}

// ---- wiring --------------------------------------------------------------------------------------
async function refreshAll() {
  try {
    await refreshQueue();
    await refreshProjects();
    const panel = document.querySelector('nav button.active').dataset.panel;
    if (panel === 'jobs-panel') await refreshJobs();
    if (panel === 'workers-panel') await refreshWorkers();
    if (panel === 'leaderboard-panel') await refreshLeaderboard();
    clearError();
  } catch (error) {
    showError(error);
  }
}

for (const tab of document.querySelectorAll('nav button')) {
  tab.addEventListener('click', () => {
    document.querySelectorAll('nav button').forEach((b) => b.classList.toggle('active', b === tab));
    document.querySelectorAll('.panel').forEach((p) => { p.hidden = p.id !== tab.dataset.panel; });
    refreshAll();
  });
}
for (const id of ['#filter-project', '#filter-status']) $(id).addEventListener('change', refreshAll);
for (const id of ['#board-project', '#param-select']) $(id).addEventListener('change', () => refreshLeaderboard().catch(showError));
$('#token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem('bossToken', $('#token-input').value.trim());
  $('#token-form').hidden = true;
  refreshAll();
});

refreshAll();
setInterval(refreshAll, 2000);
