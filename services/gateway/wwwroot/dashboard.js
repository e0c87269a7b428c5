// The Bus dashboard. Reads the public API with the user's key and follows GET /api/v1/events (the tenant's live
// stream) rather than polling: every change re-reads what it affects. The charts start from
// GET /api/v1/stats/history (the gateway's last 15 minutes) and go on from the stream.
// Text from the API (ids, commands' output, errors, worker names) is only ever set as textContent, never as HTML.
"use strict";

const KEY = "bus.apiKey";
const FINAL = ["Completed", "Failed", "Cancelled", "TimedOut"];
const STATES = ["Pending", "Allocated", "Running", "Completed", "Failed", "Cancelled", "TimedOut"];
const WINDOW_MS = 15 * 60 * 1000;
const BUCKET_MS = 5000; // live completions are counted in buckets this long
const PAGE_SIZE = 25;
const $ = id => document.getElementById(id);

const session = {
  caller: null,          // { tenant, admin } from GET /api/v1/me
  stream: null,          // AbortController of the tenant stream
  openedAt: Date.now(),  // charts: history before this, the live stream after
  intervalMs: 5000,      // how often the gateway rebuilds its stats snapshot
  stats: null,
  workers: [],
  samples: new Map(),    // at (ms) -> { utilization, pending, completedPerSecond } from the history and later snapshots
  completions: new Map(),// bucket start (ms) -> Completed events seen live
  lastChangeAt: 0,       // when the stream last brought a change: a snapshot older than it is stale
  refresh: null,         // the scheduled re-read of stats and workers
  feed: [],
};

// ---------- small helpers ----------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const svg = (tag, attrs = {}) => {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
};

const badge = state => el("span", { className: `badge ${state}` }, state);
// Job ids are time-ordered (their first digits are the clock), so a short form keeps the start and the random end.
const shortId = id => `${id.slice(0, 8)}…${id.slice(-4)}`;
const time = iso => iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "–";
const dateTime = iso => iso ? new Date(iso).toLocaleString([], { hour12: false }) : "–";

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function duration(job) {
  if (!job.startedAt) return "";
  const ms = (job.finishedAt ? Date.parse(job.finishedAt) : Date.now()) - Date.parse(job.startedAt);
  const text = ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60000)} min ${Math.round(ms % 60000 / 1000)} s`;
  return job.finishedAt ? text : `${text} so far`;
}

const megabytes = mb => mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb} MB`;

function resources(r) {
  const parts = [`${r.cpus} cpu`];
  if (r.memoryMb) parts.push(megabytes(r.memoryMb));
  if (r.gpus) parts.push(`${r.gpus} gpu`);
  return parts.join(", ");
}

function meter(fraction) {
  const bar = el("div", { className: "meter" }, el("div"));
  setMeter(bar, fraction);
  return bar;
}

function setMeter(bar, fraction) {
  const f = Number.isFinite(fraction) ? Math.max(0, Math.min(1, fraction)) : 0;
  bar.firstElementChild.style.width = `${f * 100}%`;
  bar.classList.toggle("warm", f >= 0.75 && f < 0.9);
  bar.classList.toggle("hot", f >= 0.9);
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

// ---------- the API ----------

class Refused extends Error {}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${localStorage.getItem(KEY)}`, ...(options.headers || {}) },
  });
  if (response.status === 401) throw new Refused("The API key was refused.");
  const text = await response.text();
  const body = text && response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(body?.detail || body?.title || `${path} answered ${response.status}`);
  return body;
}

// Server-Sent Events over fetch, because EventSource cannot send the Authorization header. Reconnects after a
// dropped connection with the last id it saw (Last-Event-ID), so no change is missed or seen twice.
async function follow(path, { onEvent, onEnd, onState, lastEventId, signal }) {
  let last = lastEventId;
  let backoff = 500;
  while (!signal.aborted) {
    try {
      const headers = { Authorization: `Bearer ${localStorage.getItem(KEY)}`, Accept: "text/event-stream" };
      if (last) headers["Last-Event-ID"] = last;
      const response = await fetch(path, { headers, signal });
      if (response.status === 401) throw new Refused("The API key was refused.");
      if (!response.ok) throw new Error(`${path} answered ${response.status}`);
      onState?.(true);
      backoff = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n/g, "\n");
        let split;
        while ((split = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const message = { event: "message", data: "" };
          for (const line of block.split("\n")) {
            const colon = line.indexOf(":");
            if (colon <= 0) continue;
            const field = line.slice(0, colon), text = line.slice(colon + 1).replace(/^ /, "");
            if (field === "event") message.event = text;
            else if (field === "id") message.id = text;
            else if (field === "data") message.data += text;
          }
          if (message.id) last = message.id;
          if (!message.data) continue;
          const data = JSON.parse(message.data);
          if (message.event === "end") { onEnd?.(data); return; }
          onEvent(data, message.id);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof Refused) return signOut(e.message);
    }
    onState?.(false);
    await new Promise(resolve => setTimeout(resolve, backoff));
    backoff = Math.min(backoff * 2, 10000);
  }
}

// ---------- the tenant stream: what every view reacts to ----------

function onChange(change) {
  session.lastChangeAt = Date.now();
  if (change.state === "Completed") {
    const bucket = Math.floor(Date.parse(change.at) / BUCKET_MS) * BUCKET_MS;
    session.completions.set(bucket, (session.completions.get(bucket) || 0) + 1);
  }
  session.feed.unshift(change);
  session.feed.length = Math.min(session.feed.length, 40);
  refreshSoon();
  if (view.name === "overview") { drawFeed(); drawCharts(); }
  if (view.name === "jobs") patchJobRow(change);
}

// Re-reads stats and workers shortly after a change, and once more when the snapshot it got predates the change
// (the gateway rebuilds it every few seconds): event-driven, and quiet when nothing happens.
function refreshSoon(delay = 400) {
  if (session.refresh) return;
  session.refresh = setTimeout(async () => {
    try {
      const [stats, workers] = await Promise.all([api("/api/v1/stats"), api("/api/v1/workers")]);
      session.stats = stats;
      session.workers = workers;
      session.samples.set(Date.parse(stats.generatedAt), {
        utilization: stats.utilization, pending: stats.pendingCount, completedPerSecond: null,
      });
      if (view.name === "overview") drawOverview();
      if (view.name === "workers") drawWorkers();
      session.refresh = null;
      if (Date.parse(stats.generatedAt) < session.lastChangeAt)
        refreshSoon(Math.max(500, Date.parse(stats.generatedAt) + session.intervalMs - Date.now() + 300));
    } catch (e) {
      session.refresh = null;
      if (e instanceof Refused) return signOut(e.message);
      showError(e.message);
    }
  }, delay);
}

// ---------- overview ----------

function drawOverview() {
  const stats = session.stats;
  if (!stats) return;
  const jobs = stats.jobsByState;
  $("stat-workers").textContent = stats.workers;
  $("stat-cpus").textContent = `${stats.allocated.cpus} / ${stats.capacity.cpus}`;
  setMeter($("stat-utilization-bar"), stats.utilization);
  $("stat-pending").textContent = jobs.Pending;
  $("stat-oldest").textContent = stats.oldestPendingSubmittedAt ? `oldest waits since ${time(stats.oldestPendingSubmittedAt)}` : "";
  $("stat-running").textContent = jobs.Running + jobs.Allocated;
  $("stat-completed").textContent = stats.completedLastMinute;
  $("stat-failed").textContent = jobs.Failed + jobs.TimedOut;
  $("states").replaceChildren(...STATES.map(s =>
    el("a", { href: `#/jobs?state=${s}` }, el("b", {}, jobs[s] ?? 0), badge(s))));
  drawCharts();
  drawFeed();
}

function drawFeed() {
  if (session.feed.length === 0) return;
  $("feed").replaceChildren(...session.feed.map(c => el("li", {},
    el("time", {}, time(c.at)),
    el("a", { href: `#/jobs/${c.jobId}` }, shortId(c.jobId)),
    c.previousState ? el("span", { className: "muted" }, `${c.previousState} →`) : null,
    badge(c.state),
    c.workerId ? el("span", { className: "muted" }, `on ${c.workerId}`) : null)));
}

// ---------- charts: SVG drawn here, over the last 15 minutes ----------

function series(pick) {
  const from = Date.now() - WINDOW_MS;
  return [...session.samples.entries()]
    .filter(([at, s]) => at >= from && pick(s) !== null && pick(s) !== undefined)
    .sort((a, b) => a[0] - b[0])
    .map(([at, s]) => ({ at, value: pick(s) }));
}

function throughput() {
  // Before the page opened: the history's per-snapshot rate. Since: the stream's completions, bucket by bucket.
  const points = series(s => s.completedPerSecond).filter(p => p.at < session.openedAt);
  const now = Date.now();
  for (let start = Math.floor(session.openedAt / BUCKET_MS) * BUCKET_MS; start <= now; start += BUCKET_MS)
    points.push({ at: Math.min(start + BUCKET_MS, now), value: (session.completions.get(start) || 0) / (BUCKET_MS / 1000) });
  return points;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10])
    if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function drawChart(node, points, { max, counts, format, stepped }) {
  const width = node.clientWidth || 400, height = node.clientHeight || 160;
  const left = 38, right = 8, top = 8, bottom = 20;
  const now = Date.now(), from = now - WINDOW_MS;
  const peak = points.reduce((m, p) => Math.max(m, p.value), 0);
  // Counts get a top that four gridlines divide into whole numbers.
  const top_ = max ?? (counts ? 4 * Math.ceil(Math.max(peak, 1) / 4) : niceMax(peak));
  const x = at => left + (at - from) / WINDOW_MS * (width - left - right);
  const y = v => top + (1 - v / top_) * (height - top - bottom);
  node.setAttribute("viewBox", `0 0 ${width} ${height}`);
  node.dataset.points = points.length;
  node.dataset.peak = peak;
  const parts = [];
  for (let i = 0; i <= 4; i++) {
    const v = top_ * i / 4;
    parts.push(svg("line", { class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v) }));
    const label = svg("text", { class: "axis", x: left - 6, y: y(v) + 3, "text-anchor": "end" });
    label.textContent = format(v);
    parts.push(label);
  }
  for (const minutes of [15, 10, 5, 0]) {
    const label = svg("text", { class: "axis", x: x(now - minutes * 60000), y: height - 5, "text-anchor": minutes === 15 ? "start" : minutes === 0 ? "end" : "middle" });
    label.textContent = minutes === 0 ? "now" : `−${minutes} min`;
    parts.push(label);
  }
  if (points.length === 0) {
    const empty = svg("text", { class: "empty", x: width / 2, y: height / 2, "text-anchor": "middle" });
    empty.textContent = "no data yet";
    parts.push(empty);
  } else {
    // A gauge holds its value until the next sample, up to now; a rate is drawn point to point.
    const coords = [];
    points.forEach((p, i) => {
      if (stepped && i > 0) coords.push([x(p.at), y(points[i - 1].value)]);
      coords.push([x(p.at), y(p.value)]);
    });
    if (stepped) coords.push([x(now), y(points[points.length - 1].value)]);
    const d = coords.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join("");
    const base = y(0).toFixed(1);
    parts.push(svg("path", { class: "area", d: `${d}L${coords[coords.length - 1][0].toFixed(1)},${base}L${coords[0][0].toFixed(1)},${base}Z` }));
    parts.push(svg("path", { class: "line", d }));
  }
  node.replaceChildren(...parts);
  return points.length ? points[points.length - 1].value : null;
}

function drawCharts() {
  if (view.name !== "overview") return;
  const rate = drawChart($("chart-throughput"), throughput(), { format: v => v.toFixed(v < 1 && v > 0 ? 2 : 1) });
  $("now-throughput").textContent = rate === null ? "" : `${rate.toFixed(2)} /s`;
  const used = drawChart($("chart-utilization"), series(s => s.utilization), { max: 1, format: v => `${Math.round(v * 100)}%`, stepped: true });
  $("now-utilization").textContent = used === null ? "" : `${Math.round(used * 100)}%`;
  const waiting = drawChart($("chart-pending"), series(s => s.pending), { counts: true, format: v => Math.round(v), stepped: true });
  $("now-pending").textContent = waiting === null ? "" : `${waiting}`;
}

async function loadHistory() {
  const history = await api("/api/v1/stats/history");
  session.intervalMs = history.intervalSeconds * 1000;
  for (const s of history.samples)
    session.samples.set(Date.parse(s.at), { utilization: s.utilization, pending: s.pending, completedPerSecond: s.completedPerSecond });
}

// ---------- jobs ----------

const list = { filters: {}, cursors: [], next: null, rows: new Map() };

function jobsQuery(filters, cursor) {
  const query = new URLSearchParams({ limit: PAGE_SIZE });
  if (filters.state) query.set("state", filters.state);
  if (filters.service) query.set("service", filters.service);
  if (filters.pendingReasonCode) query.set("pendingReasonCode", filters.pendingReasonCode);
  if (cursor) query.set("cursor", cursor);
  return `/api/v1/jobs?${query}`;
}

async function loadJobs() {
  const cursor = list.cursors[list.cursors.length - 1];
  const page = await api(jobsQuery(list.filters, cursor));
  list.next = page.nextCursor;
  list.rows.clear();
  const rows = page.jobs.map(jobRow);
  $("jobs").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 9, className: "muted" }, "No jobs match."))]));
  $("page-newer").disabled = list.cursors.length === 0;
  $("page-older").disabled = !list.next;
  $("page-label").textContent = `page ${list.cursors.length + 1}`;
}

function jobRow(job) {
  const row = el("tr", { dataset: { jobId: job.jobId }, onclick: () => { location.hash = `#/jobs/${job.jobId}`; } },
    el("td", { className: "mono" }, el("a", { href: `#/jobs/${job.jobId}` }, shortId(job.jobId))),
    el("td", { className: "state" }, badge(job.state)),
    el("td", {}, job.service),
    el("td", { className: "wide" }, resources(job.resources)),
    el("td", { className: "attempt" }, `${job.attempt} / ${job.maxAttempts}`),
    el("td", { className: "wide worker-id" }, job.workerId ?? "–"),
    el("td", { title: job.submittedAt }, time(job.submittedAt)),
    el("td", { className: "wide duration" }, duration(job)),
    el("td", { className: "wide reason" }, job.state === "Pending" ? (job.pendingReason ?? "") : ""));
  list.rows.set(job.jobId, { row, job });
  return row;
}

let reloadTimer = null;
function patchJobRow(change) {
  const shown = list.rows.get(change.jobId);
  if (!shown) {
    // A job this page does not show yet: on the first page a new one belongs at the top.
    if (list.cursors.length === 0 && !reloadTimer)
      reloadTimer = setTimeout(() => { reloadTimer = null; loadJobs().catch(e => showError(e.message)); }, 300);
    return;
  }
  const { row, job } = shown;
  job.state = change.state;
  if (change.state === "Running") job.startedAt = change.at;
  if (FINAL.includes(change.state)) job.finishedAt = change.at;
  row.querySelector(".state").replaceChildren(badge(change.state));
  row.querySelector(".duration").textContent = duration(job);
  const attempt = row.querySelector(".attempt");
  attempt.textContent = attempt.textContent.replace(/^\d+/, change.attempt);
  if (change.workerId) row.querySelector(".worker-id").textContent = change.workerId;
  row.querySelector(".reason").textContent = change.state === "Pending" ? (change.reason ?? "") : "";
}

function applyFiltersFromHash(query) {
  list.filters = {
    state: query.get("state") || "",
    service: query.get("service") || "",
    pendingReasonCode: query.get("pendingReasonCode") || "",
  };
  $("filter-state").value = list.filters.state;
  $("filter-service").value = list.filters.service;
  $("filter-reason").value = list.filters.pendingReasonCode;
  list.cursors = [];
}

// ---------- one job ----------

const detail = { jobId: null, stream: null, reload: null, job: null };

function field(name, value) {
  return [el("dt", {}, name), el("dd", {}, value ?? "–")];
}

function drawJob(job) {
  detail.job = job;
  $("job-title").textContent = job.jobId;
  $("job-state").className = `badge ${job.state}`;
  $("job-state").textContent = job.state;
  $("job-cancel").hidden = FINAL.includes(job.state);
  const pending = job.state === "Pending" && job.pendingReason;
  $("job-pending").hidden = !pending;
  if (pending)
    $("job-pending").replaceChildren(el("b", {}, "Waiting: "), job.pendingReason,
      job.pendingReasonCode ? el("span", { className: "chip", id: "job-pending-code" }, job.pendingReasonCode) : null);
  $("job-fields").replaceChildren(
    ...field("service", job.service), ...field("tenant", job.tenant), ...field("request id", job.requestId),
    ...field("resources", resources(job.resources)), ...field("priority", job.priority),
    ...field("attempt", `${job.attempt} of at most ${job.maxAttempts}`), ...field("worker", job.workerId),
    ...field("exit code", job.exitCode), ...field("submitted", dateTime(job.submittedAt)),
    ...field("allocated", dateTime(job.allocatedAt)), ...field("started", dateTime(job.startedAt)),
    ...field("finished", dateTime(job.finishedAt)),
    ...(job.pendingReasonCode ? field("pending reason code", job.pendingReasonCode) : []),
    ...(job.gpuDevices?.length ? field("GPU devices", job.gpuDevices.join(", ")) : []));
  const attempts = Array.isArray(job.attempts) ? job.attempts : null;
  $("job-attempts-panel").hidden = !attempts;
  if (attempts)
    $("job-attempts").replaceChildren(...attempts.map(a => el("tr", {},
      el("td", {}, a.attempt), el("td", {}, a.workerId ?? "–"), el("td", { className: "wide" }, time(a.allocatedAt)),
      el("td", {}, time(a.startedAt)), el("td", {}, time(a.finishedAt)), el("td", {}, a.exitCode ?? "–"),
      el("td", { className: "error-text" }, a.error ?? ""))));
  $("job-output").textContent = job.output || (FINAL.includes(job.state) ? "(no output)" : "(not finished yet)");
  $("job-error").hidden = !job.error;
  $("job-error").textContent = job.error ?? "";
}

function addHistory(change) {
  const from = change.previousState ? `${change.previousState} → ` : "";
  const details = [change.workerId && `on ${change.workerId}`, change.attempt && `attempt ${change.attempt}`,
    change.exitCode !== null && change.exitCode !== undefined && `exit ${change.exitCode}`, change.error, change.reason]
    .filter(Boolean).join(" · ");
  $("job-history").append(el("li", { dataset: { state: change.state } },
    el("span", { className: "what" }, `${from}${change.state}`),
    el("span", { className: "when" }, `${time(change.at)} · ${change.event}`),
    details ? el("div", { className: "detail" }, details) : null));
}

function reloadJobSoon() {
  if (detail.reload) return;
  detail.reload = setTimeout(async () => {
    detail.reload = null;
    try { if (detail.jobId) drawJob(await api(`/api/v1/jobs/${detail.jobId}`)); }
    catch (e) { showError(e.message); }
  }, 150);
}

async function openJob(jobId) {
  detail.jobId = jobId;
  detail.stream?.abort();
  $("job-history").replaceChildren();
  drawJob(await api(`/api/v1/jobs/${jobId}`));
  detail.stream = new AbortController();
  // From the very start of the stream ("0-0"), so the history shows every transition, then the live ones.
  follow(`/api/v1/jobs/${jobId}/events`, {
    lastEventId: "0-0",
    signal: detail.stream.signal,
    onEvent: change => { addHistory(change); reloadJobSoon(); },
    onEnd: () => reloadJobSoon(),
  });
}

async function cancelJob() {
  const button = $("job-cancel");
  button.disabled = true;
  try {
    await api(`/api/v1/jobs/${detail.jobId}/cancel`, { method: "POST" });
    button.textContent = "Cancelling…";
  } catch (e) {
    showError(e.message);
    button.disabled = false;
  }
}

// ---------- workers ----------

function gauge(name, used, capacity, format = String) {
  return el("div", { className: "gauge" }, el("span", {}, name), meter(capacity ? used / capacity : 0),
    el("span", {}, `${format(used)} / ${format(capacity)}`));
}

function drawWorkers() {
  const workers = session.workers;
  if (workers.length === 0) {
    $("workers").replaceChildren(el("div", { className: "panel muted" }, "No live worker."));
    return;
  }
  $("workers").replaceChildren(...workers.map(w => el("article", { className: "worker", dataset: { workerId: w.workerId } },
    el("div", { className: "head" },
      el("h3", {}, w.workerId), badge(w.status), el("span", { className: "spacer" }),
      session.caller?.admin && w.status !== "draining"
        ? el("button", { type: "button", className: "drain", onclick: e => drain(w.workerId, e.currentTarget) }, "Drain") : null),
    gauge("CPUs", w.used.cpus, w.capacity.cpus),
    w.capacity.memoryMb ? gauge("Memory", w.used.memoryMb, w.capacity.memoryMb, megabytes) : null,
    w.capacity.gpus ? gauge("GPUs", w.used.gpus, w.capacity.gpus) : null,
    gauge("Slots", w.runningJobs, w.maxConcurrentJobs),
    el("div", { className: "facts" },
      ...w.pools.map(p => el("span", { className: "chip pool", title: "pool" }, p)),
      ...w.services.map(s => el("span", { className: "chip", title: "service" }, s)),
      ...w.languages.map(l => el("span", { className: "chip", title: "language" }, l)),
      el("span", { className: "chip", title: "how it contains jobs" }, w.enforcement ?? "enforcement unknown")),
    el("div", { className: "beat", title: w.lastHeartbeat }, `heartbeat ${ago(w.lastHeartbeat)}`))));
}

async function drain(workerId, button) {
  button.disabled = true;
  try {
    const drained = await api(`/api/v1/workers/${encodeURIComponent(workerId)}/drain`, { method: "POST" });
    session.workers = session.workers.map(w => w.workerId === workerId ? drained : w);
    drawWorkers();
  } catch (e) {
    showError(e.message);
    button.disabled = false;
  }
}

// ---------- views and sign-in ----------

const view = { name: null };

async function route() {
  if (!session.caller) return;
  const [path, queryText] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  const name = parts[0] === "jobs" && parts[1] ? "job" : parts[0] === "jobs" ? "jobs" : parts[0] === "workers" ? "workers" : "overview";
  if (name !== "job") { detail.stream?.abort(); detail.jobId = null; }
  view.name = name;
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${name}`;
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.view === (name === "job" ? "jobs" : name));
  showError("");
  try {
    if (name === "overview") drawOverview();
    if (name === "jobs") { applyFiltersFromHash(new URLSearchParams(queryText)); await loadJobs(); }
    if (name === "job") await openJob(parts[1]);
    if (name === "workers") drawWorkers();
  } catch (e) {
    if (e instanceof Refused) return signOut(e.message);
    showError(e.message);
  }
}

async function start() {
  try {
    session.caller = await api("/api/v1/me");
  } catch (e) {
    return signOut(e.message);
  }
  $("login").hidden = true;
  $("nav").hidden = false;
  $("forget").hidden = false;
  $("live").hidden = false;
  $("caller").textContent = `${session.caller.tenant}${session.caller.admin ? " · admin" : ""}`;
  session.openedAt = Date.now();
  session.stream = new AbortController();
  follow("/api/v1/events", {
    signal: session.stream.signal,
    onEvent: onChange,
    onState: up => { $("live").classList.toggle("down", !up); $("live").textContent = up ? "live" : "reconnecting"; },
  });
  await loadHistory().catch(e => showError(e.message));
  refreshSoon(0);
  await route();
}

function signOut(message) {
  session.stream?.abort();
  detail.stream?.abort();
  session.caller = null;
  localStorage.removeItem(KEY);
  for (const section of document.querySelectorAll(".view")) section.hidden = true;
  $("nav").hidden = true;
  $("forget").hidden = true;
  $("live").hidden = true;
  $("caller").textContent = "";
  $("login").hidden = false;
  showError(message || "");
  $("key").focus();
}

$("login-form").addEventListener("submit", event => {
  event.preventDefault();
  localStorage.setItem(KEY, $("key").value.trim());
  $("key").value = "";
  showError("");
  start();
});
$("forget").addEventListener("click", () => signOut(""));
$("job-cancel").addEventListener("click", cancelJob);
$("filters").addEventListener("submit", event => {
  event.preventDefault();
  const query = new URLSearchParams();
  if ($("filter-state").value) query.set("state", $("filter-state").value);
  if ($("filter-service").value.trim()) query.set("service", $("filter-service").value.trim());
  if ($("filter-reason").value.trim()) query.set("pendingReasonCode", $("filter-reason").value.trim());
  location.hash = `#/jobs${query.size ? `?${query}` : ""}`;
});
$("filter-clear").addEventListener("click", () => { location.hash = "#/jobs"; });
$("page-older").addEventListener("click", () => { list.cursors.push(list.next); loadJobs().catch(e => showError(e.message)); });
$("page-newer").addEventListener("click", () => { list.cursors.pop(); loadJobs().catch(e => showError(e.message)); });
window.addEventListener("hashchange", route);
window.addEventListener("resize", drawCharts);
// The charts' window slides and heartbeats age even when nothing changes: redrawn here from what is already known.
setInterval(() => { drawCharts(); if (view.name === "workers") drawWorkers(); }, BUCKET_MS);

if (localStorage.getItem(KEY)) start(); else signOut("");
