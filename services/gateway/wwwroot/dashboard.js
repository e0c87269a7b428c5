// Polls the public API every 3 s and redraws. Values are written with textContent, never as HTML, because worker
// ids and services come from the workers themselves.
"use strict";

const KEY = "bus.apiKey";
const POLL_MS = 3000;
const $ = id => document.getElementById(id);
let timer = null;

function resources(r) {
  let text = `${r.cpus} cpu`;
  if (r.memoryMb) text += `, ${r.memoryMb} MB`;
  if (r.gpus) text += `, ${r.gpus} gpu`;
  return text;
}

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return `${seconds} s ago`;
}

function row(cells, classes = []) {
  const tr = document.createElement("tr");
  cells.forEach((text, i) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (classes[i]) td.className = classes[i];
    tr.appendChild(td);
  });
  return tr;
}

async function get(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${localStorage.getItem(KEY)}` } });
  if (response.status === 401) throw Object.assign(new Error("The API key was refused."), { refused: true });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}

function draw(stats, workers) {
  const { capacity, allocated } = stats;
  $("cpus-total").textContent = capacity.cpus;
  $("cpus-allocated").textContent = allocated.cpus;
  $("cpus-free").textContent = capacity.cpus - allocated.cpus;
  $("utilization").textContent = `${Math.round(stats.utilization * 100)} %`;
  $("worker-count").textContent = stats.workers;
  $("utilization-bar").firstElementChild.style.width = `${Math.min(100, stats.utilization * 100)}%`;
  $("utilization-bar").classList.toggle("hot", stats.utilization >= 0.9);
  $("other-resources").textContent =
    `Memory ${allocated.memoryMb} of ${capacity.memoryMb} MB allocated; GPUs ${allocated.gpus} of ${capacity.gpus}.`;

  $("workers").replaceChildren(...workers.map(w => {
    const tr = row([w.workerId, resources(w.capacity), resources(w.used), w.services.join(", "), w.status, ago(w.lastHeartbeat)]);
    tr.children[4].className = `status-${w.status}`;
    tr.children[5].title = w.lastHeartbeat;
    return tr;
  }));
  if (workers.length === 0) $("workers").replaceChildren(row(["no live worker", "", "", "", "", ""], ["muted"]));

  $("jobs").replaceChildren(...Object.entries(stats.jobsByState).map(([state, count]) => row([state, count], ["", "num"])));
  $("completed-recently").textContent = `${stats.completedLastMinute} completed in the last minute.`;
  $("updated").textContent = `snapshot of ${new Date(stats.generatedAt).toLocaleTimeString()}`;
}

async function poll() {
  try {
    const [stats, workers] = await Promise.all([get("/api/v1/stats"), get("/api/v1/workers")]);
    draw(stats, workers);
    $("error").hidden = true;
    $("board").hidden = false;
  } catch (e) {
    $("error").textContent = e.message;
    $("error").hidden = false;
    if (e.refused) return showLogin(); // no point polling with a key that will not work
  }
  timer = setTimeout(poll, POLL_MS);
}

function showLogin() {
  clearTimeout(timer);
  localStorage.removeItem(KEY);
  $("board").hidden = true;
  $("forget").hidden = true;
  $("login").hidden = false;
  $("key").focus();
}

function start() {
  $("login").hidden = true;
  $("forget").hidden = false;
  clearTimeout(timer);
  poll();
}

$("login-form").addEventListener("submit", event => {
  event.preventDefault();
  localStorage.setItem(KEY, $("key").value.trim());
  $("key").value = "";
  start();
});
$("forget").addEventListener("click", () => {
  $("error").hidden = true;
  showLogin();
});

if (localStorage.getItem(KEY)) start(); else showLogin();
