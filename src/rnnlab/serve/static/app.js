// The rnnlab web page: predict, colour tokens by attribution, draw the gate trace as SVG.
// Plain JavaScript with no external resources, so the page works on a closed network.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#2f5fd0", "#d97706", "#059669", "#9333ea", "#dc2626"];

async function postJSON(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) {
    const error = new Error(data.error || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function setStatus(message, isError = false) {
  $("status").textContent = message;
  $("status").className = isError ? "error" : "muted";
}

function showPrediction(prediction) {
  $("label").textContent = prediction.label;
  const box = $("probabilities");
  box.replaceChildren();
  const entries = Object.entries(prediction.probabilities).sort((a, b) => b[1] - a[1]);
  for (const [name, p] of entries) {
    const row = document.createElement("div");
    row.className = "prob" + (name === String(prediction.label) ? " best" : "");
    row.dataset.label = name;
    const label = document.createElement("span");
    label.className = "name";
    label.textContent = name;
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("div");
    fill.className = "fill";
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    bar.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = p.toFixed(3);
    row.append(label, bar, value);
    box.append(row);
  }
  $("result").hidden = false;
}

function tokenColour(a, scale) {
  const alpha = scale > 0 ? Math.min(1, Math.abs(a) / scale) * 0.75 : 0;
  return a >= 0 ? `rgba(34, 139, 84, ${alpha})` : `rgba(200, 40, 40, ${alpha})`;
}

function showTokens(explanation) {
  const box = $("tokens");
  box.replaceChildren();
  const scale = Math.max(...explanation.attributions.map(Math.abs), 1e-12);
  explanation.tokens.forEach((token, i) => {
    const a = explanation.attributions[i];
    const span = document.createElement("span");
    span.className = "token";
    span.textContent = token;
    span.dataset.attribution = a.toFixed(6);
    span.title = `${token}: ${a >= 0 ? "+" : ""}${a.toFixed(4)}`;
    span.style.backgroundColor = tokenColour(a, scale);
    box.append(span, document.createTextNode(" "));
  });
  for (const node of document.querySelectorAll(".target")) node.textContent = explanation.target;
  const gap = explanation.completeness_gap;
  $("attribution-note").textContent =
    `(${explanation.method === "ig" ? "integrated gradients" : "occlusion"}` +
    (gap === null || gap === undefined ? ")" : `, completeness gap ${gap.toExponential(1)})`);
}

function svgElement(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// A line per gate (values in [0, 1]) and the hidden-state norm scaled to its maximum.
function drawGates(trace) {
  const box = $("gates");
  box.replaceChildren();
  $("cell").textContent = `(${trace.cell}, last layer, mean over units)`;
  const series = Object.entries(trace.gates).map(([name, values]) => ({ name, values }));
  const top = Math.max(...trace.hidden_norm, 1e-12);
  series.push({
    name: `|h| / ${top.toFixed(2)}`,
    values: trace.hidden_norm.map((v) => v / top),
    dashed: true,
  });
  const n = trace.tokens.length;
  const W = 920, H = 280, left = 40, right = 16, topPad = 30, bottom = 70;
  const x = (i) => left + (n > 1 ? (i * (W - left - right)) / (n - 1) : (W - left - right) / 2);
  const y = (v) => topPad + (1 - v) * (H - topPad - bottom);
  const svg = svgElement("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "gate trace" });
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(svgElement("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }));
    svg.append(svgElement("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, v.toFixed(2)));
  }
  svg.append(svgElement("line", { x1: left, x2: left, y1: y(1), y2: y(0), class: "axis" }));
  svg.append(svgElement("line", { x1: left, x2: W - right, y1: y(0), y2: y(0), class: "axis" }));
  const every = Math.max(1, Math.ceil(n / 60));
  trace.tokens.forEach((token, i) => {
    if (i % every) return;
    const label = token.length > 12 ? token.slice(0, 11) + "…" : token;
    svg.append(svgElement("text", {
      x: x(i), y: y(0) + 12, "text-anchor": "end", transform: `rotate(-50 ${x(i)} ${y(0) + 12})`,
    }, label));
  });
  series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const line = svgElement("polyline", {
      points, fill: "none", stroke: colour, "stroke-width": 2, class: "series",
      "data-name": s.name,
    });
    if (s.dashed) line.setAttribute("stroke-dasharray", "5 4");
    svg.append(line);
    svg.append(svgElement("rect", { x: left + 10 + k * 150, y: 8, width: 14, height: 4, fill: colour }));
    svg.append(svgElement("text", { x: left + 30 + k * 150, y: 14 }, s.name));
  });
  box.append(svg);
}

async function run() {
  const text = $("text").value;
  if (!text.trim()) {
    setStatus("Type a text first.", true);
    return;
  }
  $("predict").disabled = true;
  setStatus("predicting…");
  try {
    showPrediction(await postJSON("/predict", { text }));
    $("explanation").hidden = true;
    if ($("explain").checked) {
      setStatus("explaining…");
      try {
        const explanation = await postJSON("/explain", { text, method: "ig", steps: 32 });
        showTokens(explanation);
        if (explanation.trace) drawGates(explanation.trace);
        $("explanation").hidden = false;
        setStatus("");
      } catch (error) {
        setStatus(error.status === 501 ? `No explanations: ${error.message}` : error.message, true);
      }
    } else {
      setStatus("");
    }
  } catch (error) {
    setStatus(error.message, true);
  } finally {
    $("predict").disabled = false;
  }
}

async function loadModel() {
  try {
    const info = await (await fetch("/model")).json();
    const cell = info.config && info.config.model ? info.config.model.cell : "";
    const accuracy = info.metrics && info.metrics.accuracy !== undefined
      ? ` · test accuracy ${info.metrics.accuracy.toFixed(3)}` : "";
    $("model-info").textContent =
      `${info.task} · ${cell ? cell.toUpperCase() + " · " : ""}labels: ${info.labels.join(", ")}` +
      ` · engine ${info.engine}${accuracy}`;
    if (!info.explain) $("explain").checked = false;
  } catch (error) {
    $("model-info").textContent = "model information unavailable";
  }
}

$("predict").addEventListener("click", run);
$("text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run();
});
loadModel();
