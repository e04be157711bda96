// fedledger aggregator dashboard: reads the service's JSON API and draws it with plain SVG.
// No framework and no CDN (the service may run offline); text from the API is always set
// with textContent, never parsed as HTML. Refreshes every 5 s (override with ?refresh=ms).
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART = { width: 640, height: 260, left: 48, right: 48, top: 26, bottom: 34 };
const params = new URLSearchParams(window.location.search);
const REFRESH_MS = Math.max(500, Number(params.get("refresh")) || 5000);

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function shortAddress(address) {
  return address.slice(0, 6) + "…" + address.slice(-4);
}

function fmtTokens(x) {
  return x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function fmtPercent(x) {
  return x === null || x === undefined ? "–" : (x * 100).toFixed(2) + "%";
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok && !(path === "/api/health" && response.status === 503)) {
    throw new Error(path + ": " + response.status + " " + (body.detail || ""));
  }
  return body;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function fillRows(table, rows) {
  const body = table.querySelector("tbody");
  clear(body);
  for (const row of rows) body.appendChild(row);
}

function cell(text, cls) {
  return el("td", cls ? { class: cls } : {}, text);
}

// -- charts ---------------------------------------------------------------------------------

function axes(chart, yMax, yRightMax, yLabel, yRightLabel) {
  const { width, height, left, right, top, bottom } = CHART;
  const plotH = height - top - bottom;
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    chart.appendChild(svg("line", { class: "gridline", x1: left, x2: width - right, y1: y, y2: y }));
    chart.appendChild(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" },
      ((yMax * i) / 4).toFixed(yMax >= 10 ? 0 : 1)));
    if (yRightMax !== null) {
      chart.appendChild(svg("text", { x: width - right + 6, y: y + 4 },
        ((yRightMax * i) / 4).toFixed(2)));
    }
  }
  chart.appendChild(svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: top + plotH }));
  chart.appendChild(svg("line", { class: "axis", x1: left, x2: width - right,
    y1: top + plotH, y2: top + plotH }));
  chart.appendChild(svg("text", { x: 4, y: top - 12 }, yLabel));
  if (yRightLabel) {
    chart.appendChild(svg("text", { x: width - 4, y: top - 12, "text-anchor": "end" }, yRightLabel));
  }
}

function drawMetrics(rounds) {
  const chart = document.getElementById("metrics-chart");
  clear(chart);
  const done = rounds.filter((r) => r.accuracy !== null);
  const { width, height, left, right, top, bottom } = CHART;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const maxLoss = Math.max(0.5, ...done.map((r) => r.loss || 0)) * 1.1;
  axes(chart, 100, maxLoss, "accuracy %", "loss");
  if (done.length === 0) {
    chart.appendChild(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle",
      class: "empty" }, "no finalized round yet"));
    return;
  }
  const step = done.length > 1 ? plotW / (done.length - 1) : 0;
  const xOf = (i) => left + (done.length > 1 ? i * step : plotW / 2);
  const series = [
    ["accuracy", (r) => r.accuracy * 100, 100],
    ["loss", (r) => r.loss, maxLoss],
  ];
  for (const [name, value, max] of series) {
    const points = done.map((r, i) => [xOf(i), top + plotH - (plotH * value(r)) / max]);
    chart.appendChild(svg("polyline", { class: "line " + name,
      points: points.map((p) => p.join(",")).join(" ") }));
    done.forEach((r, i) => {
      const dot = svg("circle", { class: "point " + name, cx: points[i][0], cy: points[i][1], r: 4,
        "data-round": r.round, "data-value": value(r).toFixed(name === "accuracy" ? 2 : 4) });
      dot.appendChild(svg("title", {}, "round " + r.round + ": " + name + " " +
        value(r).toFixed(name === "accuracy" ? 2 : 4)));
      chart.appendChild(dot);
    });
  }
  done.forEach((r, i) => {
    chart.appendChild(svg("text", { x: xOf(i), y: height - bottom + 16, "text-anchor": "middle" },
      String(r.round)));
  });
  chart.appendChild(svg("text", { x: left + plotW / 2, y: height - 4, "text-anchor": "middle" },
    "round"));
}

function drawRewards(entries) {
  const chart = document.getElementById("rewards-chart");
  clear(chart);
  const { width, height, left, right, top, bottom } = CHART;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...entries.map((e) => e.earned_tokens)) * 1.1;
  axes(chart, max, null, "FLR", "");
  if (entries.length === 0) return;
  const slot = plotW / entries.length;
  const barW = Math.max(4, Math.min(48, slot * 0.7));
  entries.forEach((e, i) => {
    const h = (plotH * e.earned_tokens) / max;
    const x = left + i * slot + (slot - barW) / 2;
    const bar = svg("rect", { class: "bar" + (e.earned_tokens === 0 ? " zero" : ""), x,
      y: top + plotH - h, width: barW, height: Math.max(h, 1),
      "data-address": e.address, "data-tokens": e.earned_tokens.toFixed(2) });
    bar.appendChild(svg("title", {}, e.address + ": " + fmtTokens(e.earned_tokens) + " FLR"));
    chart.appendChild(bar);
    chart.appendChild(svg("text", { x: x + barW / 2, y: height - bottom + 14, "text-anchor": "middle" },
      e.address.slice(2, 6)));
  });
}

// -- tables -----------------------------------------------------------------------------------

function renderRounds(rounds) {
  const rows = rounds.slice().reverse().map((r) => {
    const tr = el("tr", { "data-round": r.round });
    tr.append(cell(String(r.round), "num"), cell(r.status), cell(fmtPercent(r.accuracy), "num"),
      cell(r.loss === null ? "–" : r.loss.toFixed(4), "num"),
      cell(r.accepted === null ? "–" : String(r.accepted), "num"),
      cell(r.rejected === null ? "–" : String(r.rejected), "num"),
      cell(fmtTokens(r.total_reward_tokens), "num"));
    const link = el("td");
    if (r.report_cid) {
      link.appendChild(el("a", { href: "/api/rounds/" + r.round, class: "mono" },
        r.report_cid.slice(0, 14) + "…"));
    } else {
      link.textContent = "–";
    }
    tr.appendChild(link);
    return tr;
  });
  fillRows(document.getElementById("rounds-table"), rows);
}

function renderRejections(rejections) {
  const rows = rejections.map((r) => {
    const tr = el("tr", { class: "rejected", "data-round": r.round, "data-participant": r.participant });
    tr.append(cell(String(r.round), "num"), cell(shortAddress(r.participant), "mono"),
      cell(r.kind), cell(r.reason));
    tr.children[1].title = r.participant;
    return tr;
  });
  fillRows(document.getElementById("rejections-table"), rows);
  document.getElementById("no-rejections").hidden = rejections.length !== 0;
}

function renderLeaderboard(entries) {
  const rows = entries.map((e) => {
    const tr = el("tr", { "data-address": e.address });
    tr.append(cell(String(e.rank), "num"), cell(e.address, "mono"),
      cell(fmtTokens(e.earned_tokens), "num"), cell(String(e.accepted_updates), "num"));
    return tr;
  });
  fillRows(document.getElementById("leaderboard-table"), rows);
}

function renderHealth(health, rounds) {
  const box = document.getElementById("health");
  box.dataset.status = health.status;
  document.getElementById("health-text").textContent = health.status === "ok"
    ? "chain and store reachable"
    : [health.chain.ok ? null : "chain: " + health.chain.detail,
       health.store.ok ? null : "store: " + health.store.detail].filter(Boolean).join("; ");
  document.getElementById("current-round").textContent = health.current_round === null
    ? "none yet" : health.current_round + " (" + health.current_round_status + ")";
  document.getElementById("loop-state").textContent = health.loop.state +
    (health.loop.last_error ? " — last error: " + health.loop.last_error : "");
  document.getElementById("registry").textContent = health.registry;
  const done = rounds.filter((r) => r.accuracy !== null);
  document.getElementById("latest-accuracy").textContent = done.length
    ? fmtPercent(done[done.length - 1].accuracy) : "–";
}

async function refresh() {
  try {
    const [health, rounds, leaderboard, rejections] = await Promise.all([
      getJson("/api/health"), getJson("/api/rounds"), getJson("/api/leaderboard"),
      getJson("/api/rejections"),
    ]);
    renderHealth(health, rounds);
    drawMetrics(rounds);
    drawRewards(leaderboard);
    renderRounds(rounds);
    renderRejections(rejections);
    renderLeaderboard(leaderboard);
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
    document.body.dataset.loaded = "true";
  } catch (error) {
    const box = document.getElementById("health");
    box.dataset.status = "offline";
    document.getElementById("health-text").textContent = "cannot reach the service: " + error.message;
  } finally {
    window.setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
