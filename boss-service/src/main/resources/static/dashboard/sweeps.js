// The sweeps view: the list of sweeps (progress, status, best value) and one sweep's detail: its best trial, the
// metric by trial number with the running best, each varying parameter against the metric, and the trials best
// first. Kept cheap on a sweep of 1000 trials: every 2 s one GET /sweeps (which carries each sweep's counts and
// best), and the open sweep's leaderboard only when its view changed (a trial started or ended): never a
// request per trial.
import { $, api, artifactItem, cell, chart, num, showError, when } from './common.js';

// Colours and markers per kind of trial, the same in both charts, the table and its legend (style.css).
const KINDS = {
  done: { label: 'finished', color: '#3b82f6', symbol: 'circle' },
  pruned: { label: 'pruned', color: '#f59e0b', symbol: 'triangle' },
  failed: { label: 'failed', color: '#dc2626' },
  cancelled: { label: 'cancelled', color: '#9ca3af' },
};
const BEST_COLOR = '#15803d';
const TABLE_ROWS = 50; // rows of the trials table drawn until "show all" is clicked
const LIST_SIZE = 50;

const view = {
  sweepId: null, // the sweep open below the list
  lastList: null, // the /sweeps answer last drawn, as text
  lastSweep: null, // the open sweep's view last drawn, as text: unchanged means its leaderboard is too
  sweep: null, board: null,
  allTrials: false,
  bestArtifactsOf: null, // the job whose artifacts the best-trial box lists
  paramChoice: null, // what the parameter chart shows: 'parallel' or a parameter's path
  deps: { openJob: async () => {}, listJobs: () => {} },
};

/** openJob(jobId, section): show a job on the jobs panel; listJobs(sweepId): the jobs table filtered by sweep. */
export function setupSweeps(deps) {
  view.deps = { ...view.deps, ...deps };
  $('#sweep-cancel').addEventListener('click', () => act(cancel));
  $('#sweep-extend').addEventListener('click', () => act(extend));
  $('#sweep-rerun').addEventListener('click', () => act(rerunFailed));
  $('#sweep-jobs').addEventListener('click', () => view.deps.listJobs(view.sweepId));
  $('#sweep-param-select').addEventListener('change', () => {
    view.paramChoice = $('#sweep-param-select').value;
    if (view.sweep) drawParams(view.sweep, view.board);
  });
  $('#sweep-trials-all').addEventListener('click', () => {
    view.allTrials = true;
    if (view.sweep) renderTrials(view.sweep, view.board);
  });
}

export async function refreshSweeps() {
  const page = await api(`/sweeps?size=${LIST_SIZE}`);
  const text = JSON.stringify(page);
  if (text !== view.lastList) {
    view.lastList = text;
    renderList(page);
  }
  if (view.sweepId) {
    // The list already holds the open sweep's view when it is among the newest: no second read of it.
    const listed = page.items.find((s) => s.sweepId === view.sweepId);
    await refreshOpen(listed);
  }
}

export async function openSweep(sweepId) {
  view.sweepId = sweepId;
  view.lastSweep = null;
  view.allTrials = false;
  view.paramChoice = null;
  $('#sweep-action-result').textContent = '';
  $('#sweep-detail').hidden = false;
  await refreshOpen();
  $('#sweep-detail').scrollIntoView();
}

async function refreshOpen(known) {
  const id = view.sweepId;
  const sweep = known || await api(`/sweeps/${id}`);
  const text = JSON.stringify(sweep);
  if (view.sweepId !== id || text === view.lastSweep) return; // nothing started or ended since
  const board = await api(`/sweeps/${id}/leaderboard`);
  if (view.sweepId !== id) return;
  view.lastSweep = text;
  view.sweep = sweep;
  view.board = board;
  renderSweep(sweep, board);
}

// ---- the list ------------------------------------------------------------------------------------
function renderList(page) {
  const body = $('#sweeps-table tbody');
  body.replaceChildren();
  for (const s of page.items) {
    const row = body.insertRow();
    row.dataset.sweepId = s.sweepId;
    row.dataset.status = s.status;
    const name = cell(row, s.name || s.sweepId.slice(-8));
    name.title = s.sweepId;
    cell(row, s.projectName);
    cell(row, s.method);
    cell(row, s.status, `status-${s.status}`);
    row.insertCell().append(progress(s.progress));
    cell(row, s.counts.running || '', 'num');
    cell(row, s.counts.failed || '', `num ${s.counts.failed ? 'status-failed' : ''}`);
    cell(row, s.counts.pruned || '', 'num');
    cell(row, s.best ? `${num(s.best.value)} (trial ${s.best.trial}${s.best.pruned ? ', pruned' : ''})` : '–',
      'best');
    cell(row, when(s.createdAt));
    row.addEventListener('click', () => openSweep(s.sweepId).catch(showError));
  }
  $('#sweeps-more').hidden = page.total <= page.items.length;
  $('#sweeps-more').textContent = `the newest ${page.items.length} of ${page.total} sweeps`;
}

function progress(p) {
  const span = document.createElement('span');
  span.className = 'progress';
  const bar = document.createElement('progress');
  bar.max = Math.max(1, p.planned);
  bar.value = p.done;
  span.append(bar, ` ${p.done} / ${p.planned}`);
  return span;
}

// ---- one sweep -----------------------------------------------------------------------------------
function kindOf(entry) { return entry.pruned ? 'pruned' : entry.status; }

function varying(sweep) {
  return sweep.parameters.filter((p) => (p.values ? p.values.length > 1 : p.min < p.max));
}

// The Boss leaves null values out of the JSON it sends, so a varying parameter missing from a trial's params is
// a null.
function label(value) { return typeof value === 'string' ? value : JSON.stringify(value ?? null); }

/** A parameter's value as people read it: numbers to five significant digits. */
function shown(value) { return typeof value === 'number' ? String(num(value)) : label(value); }

function renderSweep(sweep, board) {
  $('#sweep-name').textContent = sweep.name || '';
  $('#sweep-id').textContent = sweep.sweepId;
  $('#sweep-status').textContent = sweep.status;
  $('#sweep-status').className = `status-${sweep.status}`;
  const c = sweep.counts;
  const early = sweep.earlyStop ? `, early stop ${sweep.earlyStop.type} from step ${sweep.earlyStop.minSteps}` : '';
  $('#sweep-facts').textContent = `${sweep.method} on ${sweep.projectName}; ${sweep.metric.name} `
    + `(${sweep.metric.goal}); ${sweep.progress.done} / ${sweep.progress.planned} ended: ${c.done} done, `
    + `${c.pruned} pruned, ${c.failed} failed, ${c.cancelled} cancelled, ${c.running} running, ${c.queued} queued; `
    + `parallelism ${sweep.parallelism}, maxJobs ${sweep.maxJobs}, seed ${sweep.seed}${early}`
    + (sweep.stopReason ? `. Stopped by the Boss: ${sweep.stopReason}` : '');
  $('#sweep-cancel').hidden = sweep.status !== 'running';
  $('#sweep-extend').hidden = sweep.status === 'cancelled';
  $('#sweep-extend-max').closest('label').hidden = sweep.status === 'cancelled';
  if (!$('#sweep-extend-max').value || Number($('#sweep-extend-max').value) <= sweep.maxJobs) {
    $('#sweep-extend-max').value = sweep.maxJobs * 2;
  }
  const canRerun = c.failed > 0 && sweep.status !== 'cancelled';
  $('#sweep-rerun').hidden = !canRerun;
  $('#sweep-rerun-all').closest('label').hidden = !canRerun;
  renderBest(sweep);
  drawTrials(sweep, board);
  drawParams(sweep, board);
  renderTrials(sweep, board);
}

function renderBest(sweep) {
  const best = sweep.best;
  $('#sweep-best-none').hidden = !!best;
  const facts = $('#sweep-best-facts');
  facts.replaceChildren();
  if (!best) {
    $('#sweep-best-artifacts').replaceChildren();
    view.bestArtifactsOf = null;
    return;
  }
  const add = (name, ...content) => {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.append(...content);
    facts.append(dt, dd);
    return dd;
  };
  add('trial', String(best.trial)).className = 'best-trial';
  add(sweep.metric.name, num(best.value), best.pruned ? ' (pruned: its last intermediate value)' : '')
    .className = 'best-value';
  const paths = varying(sweep).map((p) => p.path);
  const params = paths.map((path) => `${path} = ${shown(best.params?.[path])}`).join(', ');
  add('parameters', params || '(none vary)').className = 'best-params';
  add('job', jobLink(best.jobId, 'sweep-best-job'), ' ', jobLink(best.jobId, 'sweep-best-artifacts-link', 'artifacts',
    '#job-artifacts'));
  showBestArtifacts(best.jobId);
}

function jobLink(jobId, className, text = jobId, section = null) {
  const a = document.createElement('a');
  a.href = `/jobs/${jobId}`;
  a.className = className;
  a.dataset.jobId = jobId;
  a.textContent = text;
  a.addEventListener('click', (event) => {
    event.preventDefault();
    event.stopPropagation();
    view.deps.openJob(jobId, section).catch(showError);
  });
  return a;
}

async function showBestArtifacts(jobId) {
  if (view.bestArtifactsOf === jobId) return; // a job's artifacts do not change once it ended
  view.bestArtifactsOf = jobId;
  let artifacts = [];
  try {
    artifacts = (await api(`/jobs/${jobId}/artifacts`)).artifacts;
  } catch (error) {
    view.bestArtifactsOf = null; // try again on the next refresh
  }
  if (view.bestArtifactsOf !== jobId) return;
  const list = $('#sweep-best-artifacts');
  if (!artifacts.length) {
    const li = document.createElement('li');
    li.className = 'hint';
    li.textContent = 'no artifacts';
    list.replaceChildren(li);
  } else {
    list.replaceChildren(...artifacts.map(artifactItem));
  }
}

/** A log axis when every value is positive and they span more than two orders of magnitude. */
function metricAxisType(values) {
  if (!values.length || values.some((v) => v <= 0)) return 'value';
  return Math.max(...values) / Math.min(...values) > 100 ? 'log' : 'value';
}

// ECharts draws a tooltip's text as HTML: what a trial carries (values, errors) is escaped.
function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}

function tooltip(entry, sweep) {
  if (!entry) return '';
  const kind = KINDS[kindOf(entry)]?.label || entry.status;
  const value = typeof entry.value === 'number' ? `${sweep.metric.name} ${num(entry.value)}` : 'no value';
  const lines = [`trial ${entry.trial} (${kind}): ${value}`,
    ...varying(sweep).map((p) => `${p.path} = ${shown(entry.params?.[p.path])}`)];
  if (entry.error) lines.push(entry.error);
  return lines.map(escape).join('<br>');
}

function drawTrials(sweep, board) {
  const maximize = sweep.metric.goal === 'maximize';
  const byTrial = [...board.trials].sort((a, b) => a.trial - b.trial);
  const entries = new Map(byTrial.map((t) => [t.trial, t]));
  const points = { done: [], pruned: [] };
  const marks = { failed: [], cancelled: [] };
  const bestLine = [];
  let best = null;
  for (const t of byTrial) {
    const kind = kindOf(t);
    if (typeof t.value === 'number') {
      (points[kind] || points.done).push([t.trial, t.value]);
      if (best === null || (maximize ? t.value > best : t.value < best)) best = t.value;
    } else if (marks[kind]) {
      marks[kind].push({ xAxis: t.trial, name: String(t.trial) });
    }
    if (best !== null) bestLine.push([t.trial, best]);
  }
  const values = [...points.done, ...points.pruned].map((p) => p[1]);
  const scatter = (kind) => ({
    name: KINDS[kind].label, type: 'scatter', symbol: KINDS[kind].symbol, symbolSize: kind === 'pruned' ? 9 : 7,
    itemStyle: { color: KINDS[kind].color }, data: points[kind],
  });
  // A trial without a value (failed, cancelled) is a dashed vertical line at its number.
  const lines = (kind) => ({
    name: KINDS[kind].label, type: 'scatter', data: [], itemStyle: { color: KINDS[kind].color },
    markLine: { symbol: 'none', label: { show: false }, lineStyle: { color: KINDS[kind].color, type: 'dashed' },
      data: marks[kind] },
  });
  const series = [scatter('done'), scatter('pruned'), lines('failed'), lines('cancelled'),
    { name: `best so far (${maximize ? 'highest' : 'lowest'})`, type: 'line', step: 'end', showSymbol: false,
      itemStyle: { color: BEST_COLOR }, lineStyle: { color: BEST_COLOR }, data: bestLine }];
  if (sweep.best) {
    series.push({ name: 'best trial', type: 'scatter', symbol: 'diamond', symbolSize: 15,
      itemStyle: { color: BEST_COLOR }, data: [[sweep.best.trial, sweep.best.value]] });
  }
  const last = byTrial.length ? byTrial[byTrial.length - 1].trial : 1;
  chart('sweep-trials-chart').setOption({
    animation: false,
    title: { text: `${sweep.metric.name} by trial`, textStyle: { fontSize: 13 } },
    tooltip: {
      trigger: 'item',
      formatter: (p) => tooltip(entries.get(p.componentType === 'markLine' ? Number(p.name) : p.value[0]), sweep),
    },
    legend: { bottom: 0 },
    grid: { bottom: 60 },
    xAxis: { type: 'value', name: 'trial', min: 1, max: Math.max(1, last), minInterval: 1 },
    yAxis: { type: metricAxisType(values), scale: true, name: sweep.metric.name },
    series,
  }, true);
}

function drawParams(sweep, board) {
  const params = varying(sweep);
  const select = $('#sweep-param-select');
  const choices = [...(params.length > 1 ? [['parallel', 'all parameters (parallel coordinates)']] : []),
    ...params.map((p) => [p.path, `${p.path} against ${sweep.metric.name}`])];
  if (!choices.some(([value]) => value === view.paramChoice)) view.paramChoice = choices[0]?.[0] ?? null;
  select.replaceChildren(...choices.map(([value, text]) => new Option(text, value)));
  select.value = view.paramChoice ?? '';
  const valued = board.trials.filter((t) => typeof t.value === 'number');
  const noValue = board.trials.filter((t) => ['failed', 'cancelled'].includes(t.status)).length;
  const subtext = noValue ? `${noValue} failed or cancelled trials have no value to draw` : '';
  const axisType = metricAxisType(valued.map((t) => t.value));
  const target = chart('sweep-params-chart');
  if (!view.paramChoice) {
    target.setOption({ title: { text: 'no parameter varies', textStyle: { fontSize: 13 } } }, true);
    return;
  }
  const bestTrial = sweep.best?.trial;
  const groups = {
    done: valued.filter((t) => !t.pruned && t.trial !== bestTrial),
    pruned: valued.filter((t) => t.pruned && t.trial !== bestTrial),
    best: valued.filter((t) => t.trial === bestTrial),
  };
  const entries = new Map(board.trials.map((t) => [t.trial, t]));
  const style = (kind) => (kind === 'best' ? { color: BEST_COLOR } : { color: KINDS[kind].color });
  const name = (kind) => (kind === 'best' ? 'best trial' : KINDS[kind].label);
  let option;
  if (view.paramChoice === 'parallel') {
    const axes = params.map((p, i) => (p.values
      ? { dim: i, name: p.path, type: 'category', data: p.values.map(label) }
      : { dim: i, name: p.path, type: p.distribution === 'log_uniform' ? 'log' : 'value', min: p.min, max: p.max }));
    axes.push({ dim: params.length, name: sweep.metric.name, type: axisType, scale: true });
    const row = (t) => [...params.map((p) => (p.values ? label(t.params?.[p.path]) : t.params?.[p.path])), t.value];
    option = {
      parallelAxis: axes,
      parallel: { left: 60, right: 90, bottom: 60, top: 60 },
      series: ['done', 'pruned', 'best'].map((kind) => ({
        name: name(kind), type: 'parallel', data: groups[kind].map(row),
        lineStyle: { ...style(kind), width: kind === 'best' ? 3 : 1, opacity: kind === 'best' ? 1 : 0.45,
          type: kind === 'pruned' ? 'dashed' : 'solid' },
      })),
    };
  } else {
    const p = params.find((q) => q.path === view.paramChoice);
    const x = (t) => (p.values ? label(t.params?.[p.path]) : t.params?.[p.path]);
    option = {
      tooltip: { trigger: 'item', formatter: (point) => tooltip(entries.get(point.data[2]), sweep) },
      xAxis: p.values ? { type: 'category', name: p.path, data: p.values.map(label) }
        : { type: p.distribution === 'log_uniform' ? 'log' : 'value', name: p.path, scale: true },
      yAxis: { type: axisType, scale: true, name: sweep.metric.name },
      grid: { bottom: 60, right: 90 },
      series: ['done', 'pruned', 'best'].map((kind) => ({
        name: name(kind), type: 'scatter', symbol: kind === 'pruned' ? 'triangle' : kind === 'best' ? 'diamond' : 'circle',
        symbolSize: kind === 'best' ? 15 : 8, itemStyle: style(kind),
        data: groups[kind].map((t) => [x(t), t.value, t.trial]),
      })),
    };
  }
  target.setOption({
    animation: false,
    title: { text: view.paramChoice === 'parallel' ? `parameters and ${sweep.metric.name}`
      : `${view.paramChoice} against ${sweep.metric.name}`, subtext, textStyle: { fontSize: 13 } },
    legend: { bottom: 0 },
    ...option,
  }, true);
}

function renderTrials(sweep, board) {
  const params = varying(sweep).map((p) => p.path);
  const head = $('#sweep-trials-table thead');
  head.replaceChildren();
  const headRow = head.insertRow();
  for (const name of ['rank', 'trial', 'status', sweep.metric.name, ...params, 'job', 'note']) cell(headRow, name);
  const body = $('#sweep-trials-table tbody');
  body.replaceChildren();
  const drawn = view.allTrials ? board.trials : board.trials.slice(0, TABLE_ROWS);
  let rank = 0;
  for (const t of drawn) {
    const kind = kindOf(t);
    const row = body.insertRow();
    row.dataset.trial = t.trial;
    row.dataset.jobId = t.jobId;
    row.className = `trial-${kind}`;
    cell(row, typeof t.value === 'number' ? ++rank : '');
    cell(row, t.trial, 'num');
    cell(row, kind, `trial-status status-${t.status}`);
    cell(row, num(t.value), 'num value');
    for (const path of params) cell(row, shown(t.params?.[path]), 'param');
    const links = row.insertCell();
    links.append(jobLink(t.jobId, 'trial-job', t.jobId.slice(-8)));
    if (t.status === 'done') links.append(' ', jobLink(t.jobId, 'trial-artifacts', 'artifacts', '#job-artifacts'));
    const notes = [];
    if (t.jobs) notes.push(`re-run: ${t.jobs.length} jobs`);
    if (t.error) notes.push(t.error);
    cell(row, notes.join('; '), 'note');
    row.addEventListener('click', () => view.deps.openJob(t.jobId).catch(showError));
  }
  const more = $('#sweep-trials-all');
  more.hidden = drawn.length === board.trials.length;
  more.textContent = `Show all ${board.trials.length} trials`;
}

// ---- actions -------------------------------------------------------------------------------------
// Every sweep route is the submitter's (AccessRules), like the view itself; should a token still be refused
// (403), the buttons are disabled rather than left to fail again.
async function act(action) {
  const result = $('#sweep-action-result');
  try {
    result.textContent = await action(view.sweepId);
    view.lastSweep = null; // redraw even if the counts happen to be the same
    await refreshOpen();
  } catch (error) {
    if (error.status === 403) {
      document.querySelectorAll('#sweep-actions button:not(#sweep-jobs)').forEach((b) => {
        b.disabled = true;
        b.title = 'this token may not change sweeps';
      });
    }
    result.textContent = error.message;
  }
}

async function cancel(sweepId) {
  if (!window.confirm('Cancel this sweep? No new trials start; queued ones are cancelled, running ones stopped.')) {
    return '';
  }
  await api(`/sweeps/${sweepId}/cancel`, { method: 'POST' });
  return 'cancelled';
}

async function extend(sweepId) {
  const maxJobs = Number($('#sweep-extend-max').value);
  const answer = await api(`/sweeps/${sweepId}/extend?maxJobs=${encodeURIComponent(maxJobs)}`, { method: 'POST' });
  return `maxJobs is now ${answer.maxJobs}`;
}

async function rerunFailed(sweepId) {
  const all = $('#sweep-rerun-all').checked ? '?all=true' : '';
  const answer = await api(`/sweeps/${sweepId}/rerun-failed${all}`, { method: 'POST' });
  if (answer.rerun.length) return `re-running trials ${answer.rerun.join(', ')}`;
  return all ? 'nothing to re-run' : 'nothing to re-run: the failures left are the scripts\' own 4xx (tick the box '
    + 'to re-run them too)';
}
