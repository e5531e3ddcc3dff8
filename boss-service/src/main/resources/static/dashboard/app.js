// The Boss dashboard: plain ES module, no build step. Every call carries the submitter token, asked
// for once (on the first 401) and kept in sessionStorage for this tab only. Shared helpers are in common.js;
// the sweeps view in sweeps.js.
import {
  $, api, artifactItem, cell, chart, clearError, duration, fetchBlob, num, showError, token, when,
} from './common.js';
import { openSweep, refreshSweeps, setupSweeps } from './sweeps.js';

const state = {
  job: null, jobLive: false, logAbort: null,
  sort: '', // '' newest first, 'loss' lowest first, '-loss' highest first
  selected: new Set(), // job ids ticked for comparison; kept across the table's re-renders
  lastJobsPage: null, // the last /jobs answer drawn, to skip redrawing an unchanged table
  artifactsShown: null, artifactUrls: [], // the artifact list drawn, and the object URLs its images hold
};

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
  if ($('#filter-sweep').value.trim()) params.set('sweep', $('#filter-sweep').value.trim());
  if (state.sort) params.set('sort', state.sort);
  const page = await api(`/jobs?${params}`);
  // Polled every 2 s: an unchanged answer leaves the table (and what the mouse is on) alone.
  const text = JSON.stringify(page);
  if (text === state.lastJobsPage) return;
  state.lastJobsPage = text;
  renderJobs(page.items);
}

function renderJobs(items) {
  const body = $('#jobs-table tbody');
  body.replaceChildren();
  const sweeps = new Set();
  for (const item of items) {
    const { order, job } = item;
    if (order.sweepId) sweeps.add(order.sweepId);
    const row = body.insertRow();
    row.dataset.jobId = order.jobId;
    row.dataset.status = order.status;
    const pick = document.createElement('input');
    pick.type = 'checkbox';
    pick.className = 'select-job';
    pick.checked = state.selected.has(order.jobId);
    pick.addEventListener('click', (event) => event.stopPropagation());
    pick.addEventListener('change', () => {
      if (pick.checked) state.selected.add(order.jobId); else state.selected.delete(order.jobId);
      updateCompareButton();
    });
    row.insertCell().append(pick);
    cell(row, order.jobId.slice(-8));
    cell(row, order.sweepId ? `${order.projectName ?? ''} / ${order.sweepId}` : order.projectName);
    cell(row, order.scriptName);
    cell(row, order.status, `status-${order.status}`);
    cell(row, order.attempt);
    cell(row, order.assignedTo);
    cell(row, when(order.createdDate));
    cell(row, duration(item.durationSeconds), 'num duration');
    cell(row, num(item.loss), 'num loss');
    const metric = cell(row, num(item.metric), 'num metric');
    if (item.metricName) {
      const name = document.createElement('span');
      name.className = 'metric-name';
      name.textContent = ` ${item.metricName}`;
      metric.append(name);
    }
    const results = row.insertCell();
    results.className = 'results';
    if (item.links?.outcome) {
      // Plain links work in a new tab when tokens are off; a click opens the section here, with the token.
      results.append(sectionLink('outcome', item.links.outcome, order.jobId, '#job-outcome'),
        sectionLink('manifest', item.links.outcome, order.jobId, '#job-manifest'),
        sectionLink('artifacts', `/jobs/${order.jobId}/artifacts`, order.jobId, '#job-artifacts'));
    }
    const actions = row.insertCell();
    if (['unassigned', 'assigned', 'running'].includes(order.status)) {
      actions.append(button('Cancel', 'cancel-job', () => cancel(order.jobId)));
    }
    if (job) actions.append(button('Re-run', 'rerun-job', () => rerun(order.jobId)));
    row.addEventListener('click', () => openJob(order.jobId).catch(showError));
  }
  const list = $('#sweep-ids');
  const known = new Set([...list.options].map((o) => o.value));
  for (const sweep of sweeps) if (!known.has(sweep)) list.append(new Option(sweep, sweep));
  updateCompareButton();
}

function sectionLink(label, href, jobId, section) {
  const a = document.createElement('a');
  a.textContent = label;
  a.href = href;
  a.className = `${label}-link`;
  a.addEventListener('click', (event) => {
    event.preventDefault();
    event.stopPropagation();
    openJob(jobId).then(() => {
      const target = $(section);
      (target.hidden || target.closest('[hidden]') ? $('#job-outcome') : target).scrollIntoView();
    }).catch(showError);
  });
  return a;
}

// The Boss compares 2 to 10 jobs at a time.
const MAX_COMPARED = 10;

function updateCompareButton() {
  const compare = $('#compare-button');
  const n = state.selected.size;
  compare.disabled = n < 2 || n > MAX_COMPARED;
  compare.textContent = n > MAX_COMPARED ? `Compare selected (${n}; at most ${MAX_COMPARED})`
    : `Compare selected (${n})`;
}

function showSort() {
  const header = $('#sort-loss');
  if (state.sort) header.dataset.sort = state.sort === 'loss' ? '▲' : '▼';
  else delete header.dataset.sort;
  header.title = { '': 'sort by loss, lowest first', loss: 'sort by loss, highest first', '-loss': 'newest first' }[state.sort];
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

// The Boss's rerun keeps the data version and seed and links the two jobs both ways.
async function rerun(jobId) {
  const created = await api(`/jobs/${jobId}/rerun`, { method: 'POST', body: '{}' });
  await refreshJobs();
  await openJob(created.jobId);
}

// ---- compare -------------------------------------------------------------------------------------
async function openCompare() {
  const ids = [...state.selected];
  const view = $('#compare-view');
  $('#job-detail').hidden = true;
  view.hidden = false;
  $('#compare-count').textContent = ids.length;
  $('#compare-error').hidden = true;
  $('#compare-table thead').replaceChildren();
  $('#compare-table tbody').replaceChildren();
  $('#compare-same').textContent = '';
  try {
    renderCompare(await api(`/jobs/compare?ids=${ids.map(encodeURIComponent).join(',')}`), ids);
  } catch (error) {
    $('#compare-error').textContent = `Could not compare these jobs: ${error.message}`;
    $('#compare-error').hidden = false;
  }
  view.scrollIntoView();
}

function renderCompare(answer, asked) {
  const ids = answer.ids || asked;
  const headRow = $('#compare-table thead').insertRow();
  cell(headRow, 'field');
  for (const id of ids) {
    const th = cell(headRow, id.slice(-8));
    th.dataset.jobId = id;
    th.title = id;
    th.addEventListener('click', () => openJob(id).catch(showError));
  }
  const body = $('#compare-table tbody');
  // Metrics are always shown, alike or not; the job's fields and the manifest only where they differ.
  compareSection(body, 'metrics', 'results', answer.metrics || {}, ids.length, true);
  compareSection(body, 'job', 'job fields that differ', answer.job || {}, ids.length, false);
  compareSection(body, 'manifest', 'manifest fields that differ', answer.manifest || {}, ids.length, false);
  const same = answer.same || {};
  const parts = [];
  if (same.job?.length) parts.push(`job: ${same.job.join(', ')}`);
  if (same.manifest?.length) parts.push(`manifest: ${same.manifest.join(', ')}`);
  $('#compare-same').textContent = parts.length ? `The same in every job — ${parts.join('; ')}` : '';
}

const METRICS_FIRST = ['status', 'loss', 'metric', 'metricName', 'durationSeconds'];

function compareSection(body, section, title, fields, columns, always) {
  const rank = (name) => (METRICS_FIRST.includes(name) ? METRICS_FIRST.indexOf(name) : METRICS_FIRST.length);
  const names = Object.keys(fields).sort((a, b) => rank(a) - rank(b));
  if (!names.length && !always) return;
  const head = body.insertRow();
  head.className = 'section';
  head.dataset.section = section;
  const th = document.createElement('th');
  th.colSpan = columns + 1;
  th.textContent = title;
  head.append(th);
  for (const name of names) {
    const values = fields[name] || [];
    const row = body.insertRow();
    row.dataset.section = section;
    row.dataset.field = name;
    cell(row, name);
    const shown = values.map((v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v));
    // A cell is highlighted where it differs from the first job's, as the leaderboard does from the best.
    for (let i = 0; i < columns; i++) {
      const differs = JSON.stringify(values[i]) !== JSON.stringify(values[0]);
      const text = typeof values[i] === 'number' ? num(values[i]) : shown[i];
      cell(row, name === 'durationSeconds' ? duration(values[i]) : text, differs ? 'diff' : '');
    }
  }
}

// ---- job page ------------------------------------------------------------------------------------
async function openJob(jobId) {
  state.job = jobId;
  const detail = await api(`/jobs/${jobId}`);
  $('#compare-view').hidden = true;
  $('#job-detail').hidden = false;
  $('#job-id').textContent = jobId;
  $('#job-params').textContent = JSON.stringify(detail.job, null, 2);
  // A job can be stored without its order (a Boss that died between the two writes): show what there is.
  $('#job-timeline').replaceChildren(...(detail.order?.history || []).map((h) => {
    const li = document.createElement('li');
    li.textContent = `${when(h.at)} — ${h.status}${h.node ? ` on ${h.node}` : ''} (attempt ${h.attempt}): ${h.reason || ''}`;
    return li;
  }));
  const rerunOf = detail.job?.rerunOf || detail.order?.rerunOf;
  $('#job-rerun-of').hidden = !rerunOf;
  $('#job-rerun-of').textContent = rerunOf ? `a rerun of ${rerunOf}` : '';
  showSweepLink(detail.job);
  showJobState(detail);
  await showArtifacts(jobId);
  followLog(jobId);
}

/** A sweep's trial links to its sweep (a job sent by hand with a sweepId of its own is no trial). */
function showSweepLink(job) {
  const line = $('#job-sweep');
  const trial = job?.sweepId && Number.isInteger(job.trial);
  line.hidden = !trial;
  if (!trial) return;
  const a = document.createElement('a');
  a.href = '#';
  a.textContent = `sweep ${job.sweepId}`;
  a.addEventListener('click', (event) => {
    event.preventDefault();
    showPanel('sweeps-panel');
    openSweep(job.sweepId).then(refreshAll).catch(showError);
  });
  line.replaceChildren(`trial ${job.trial} of `, a);
}

/** The parts of the job page that change while it waits and runs; the page polls them while it is live. */
function showJobState(detail) {
  const status = detail.order?.status || 'no order';
  state.jobLive = ['unassigned', 'assigned', 'running'].includes(status);
  $('#job-status').textContent = status;
  $('#job-status').className = `status-${status.replace(' ', '-')}`;
  $('#job-outcome').textContent = detail.outcome ? JSON.stringify(detail.outcome, null, 2) : '(none yet)';
  showQueue(detail.queue);
  showManifest(detail.outcome?.manifest);
}

function showQueue(queue) {
  $('#job-queue').hidden = !queue;
  if (!queue) return;
  const facts = [];
  if (queue.position !== undefined) facts.push(['position', `${queue.position} ahead`]);
  if (queue.eligibleWorkers) {
    facts.push(['eligible workers', `${queue.eligibleWorkers.live ?? 0} live, ${queue.eligibleWorkers.idle ?? 0} idle`]);
  }
  if (typeof queue.etaSeconds === 'number') {
    facts.push(['starts in', `about ${duration(queue.etaSeconds)}${queue.etaMethod ? ` (${queue.etaMethod})` : ''}`]);
  }
  if (queue.waitingBecause) facts.push(['waiting because', queue.waitingBecause]);
  $('#job-queue-facts').replaceChildren(...facts.flatMap(([name, value]) => {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    return [dt, dd];
  }));
}

function showManifest(manifest) {
  $('#job-manifest').hidden = !manifest;
  if (!manifest) return;
  const body = $('#job-manifest-table tbody');
  body.replaceChildren();
  for (const [name, value] of Object.entries(manifest)) {
    const row = body.insertRow();
    row.dataset.field = name;
    const th = document.createElement('th');
    th.textContent = name;
    row.append(th);
    let text = value;
    if (name === 'gpu' && value && typeof value === 'object') text = `${value.model ?? ''}${value.uuid ? ` (${value.uuid})` : ''}`;
    else if (value !== null && typeof value === 'object') text = JSON.stringify(value);
    cell(row, text);
  }
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
  if (state.job === jobId) showJobState(detail);
  await showArtifacts(jobId);
}

// ---- artifacts -----------------------------------------------------------------------------------
// An <img src> cannot carry the token either: PNGs are fetched with it (fetchBlob) and shown through object
// URLs, revoked when the list is redrawn.
const PNG_INLINE_MAX_BYTES = 10 * 1024 * 1024;
const PNG_INLINE_MAX_COUNT = 8;

function objectUrl(blob) {
  const url = URL.createObjectURL(blob);
  state.artifactUrls.push(url);
  return url;
}

async function showArtifacts(jobId) {
  let answer;
  try {
    answer = await api(`/jobs/${jobId}/artifacts`);
  } catch (error) {
    answer = { artifacts: [], skipped: [] }; // a job without an order yet: nothing to show
  }
  if (state.job !== jobId) return;
  const text = JSON.stringify(answer);
  const drawn = `${jobId} ${text}`;
  if (state.artifactsShown === drawn) return; // unchanged: keep the images already drawn
  state.artifactsShown = drawn;
  state.artifactUrls.forEach((url) => URL.revokeObjectURL(url));
  state.artifactUrls = [];
  const { artifacts, skipped } = answer;
  $('#job-artifacts').hidden = artifacts.length === 0 && skipped.length === 0;
  $('#job-artifact-list').replaceChildren(...artifacts.map((a) => artifactItem(a)));
  $('#job-artifact-skipped').replaceChildren(...skipped.map((s) => {
    const li = document.createElement('li');
    li.textContent = `${s.name}: not kept (${s.reason})`;
    return li;
  }));
  const images = $('#job-artifact-images');
  images.replaceChildren();
  const pngs = artifacts.filter((a) => !a.pruned && a.contentType === 'image/png' && a.size <= PNG_INLINE_MAX_BYTES);
  for (const png of pngs.slice(0, PNG_INLINE_MAX_COUNT)) {
    const figure = document.createElement('figure');
    const img = document.createElement('img');
    img.alt = png.name;
    img.dataset.artifact = png.name;
    const caption = document.createElement('figcaption');
    caption.textContent = png.name;
    figure.append(img, caption);
    images.append(figure);
    fetchBlob(png.href).then((blob) => {
      // A fetch that ends after the list was redrawn (or another job opened) has no image to fill: making an
      // object URL for it would hold the bytes until the page closes.
      if (state.artifactsShown === drawn) img.src = objectUrl(blob);
    }).catch((error) => { caption.textContent = `${png.name}: ${error.message}`; });
  }
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
    if (panel === 'jobs-panel') {
      await refreshJobs();
      // Only a job still waiting or running changes (its place in the queue, its state): one read by id.
      if (state.job && state.jobLive && !$('#job-detail').hidden) await openJobQuietly(state.job);
    }
    if (panel === 'workers-panel') await refreshWorkers();
    if (panel === 'leaderboard-panel') await refreshLeaderboard();
    if (panel === 'sweeps-panel') await refreshSweeps();
    clearError();
  } catch (error) {
    showError(error);
  }
}

function showPanel(panelId) {
  document.querySelectorAll('nav button').forEach((b) => b.classList.toggle('active', b.dataset.panel === panelId));
  document.querySelectorAll('.panel').forEach((p) => { p.hidden = p.id !== panelId; });
}

for (const tab of document.querySelectorAll('nav button')) {
  tab.addEventListener('click', () => {
    showPanel(tab.dataset.panel);
    refreshAll();
  });
}
// The sweeps view opens a trial's job on the jobs panel, scrolled to a section (its artifacts, say).
setupSweeps({
  openJob: async (jobId, section) => {
    showPanel('jobs-panel');
    await openJob(jobId);
    if (section && !$(section).hidden) $(section).scrollIntoView();
    refreshAll();
  },
  listJobs: (sweepId) => {
    $('#filter-sweep').value = sweepId;
    showPanel('jobs-panel');
    refreshAll();
  },
});
for (const id of ['#filter-project', '#filter-status', '#filter-sweep']) $(id).addEventListener('change', refreshAll);
$('#sort-loss').addEventListener('click', () => {
  state.sort = { '': 'loss', loss: '-loss', '-loss': '' }[state.sort];
  showSort();
  refreshAll();
});
$('#compare-button').addEventListener('click', () => openCompare().catch(showError));
$('#compare-close').addEventListener('click', () => { $('#compare-view').hidden = true; });
$('#job-rerun').addEventListener('click', () => {
  if (state.job) rerun(state.job).catch(showError);
});
showSort();
for (const id of ['#board-project', '#param-select']) $(id).addEventListener('change', () => refreshLeaderboard().catch(showError));
$('#token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem('bossToken', $('#token-input').value.trim());
  $('#token-form').hidden = true;
  refreshAll();
});

refreshAll();
setInterval(refreshAll, 2000);
