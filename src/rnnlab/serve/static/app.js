// The rnnlab web page: predict, colour tokens by attribution, draw the gate trace as SVG; for a
// translation model (GET /model says its task), a translation form instead (POST /translate,
// the beam size bounded by the server's limit).
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

function setStatus(message, isError = false, id = "status") {
  $(id).textContent = message;
  $(id).className = isError ? "error" : "muted";
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

// The translation form: each non-blank line of the source box is one sentence; the beam size
// (empty: the run's own) and n-best go with them, and the translations come back in order,
// each with its other n-best translations below it.
async function translate() {
  const sentences = $("source").value.split("\n").filter((line) => line.trim());
  if (!sentences.length) {
    setStatus("Type a sentence first.", true, "translate-status");
    return;
  }
  const body = sentences.length === 1 ? { text: sentences[0] } : { texts: sentences };
  const beam = $("beam").value.trim();
  if (beam) body.beam = Number(beam);
  const nbest = Number($("nbest").value.trim() || "1");
  if (nbest > 1) body.nbest = nbest;
  $("translate").disabled = true;
  setStatus("translating…", false, "translate-status");
  try {
    const found = await postJSON("/translate", body);
    const list = $("translations");
    list.replaceChildren();
    found.translations.forEach((translation, i) => {
      const item = document.createElement("li");
      const best = document.createElement("span");
      best.className = "translation";
      best.textContent = translation;
      item.append(best);
      const others = found.nbest ? found.nbest[i].slice(1) : [];
      if (others.length) {
        const alternatives = document.createElement("ol");
        alternatives.className = "alternatives";
        alternatives.start = 2;
        for (const other of others) {
          const alternative = document.createElement("li");
          alternative.className = "alternative";
          alternative.textContent = other;
          alternatives.append(alternative);
        }
        item.append(alternatives);
      }
      list.append(item);
    });
    $("translation-beam").textContent = `(beam ${found.beam})`;
    $("translation-result").hidden = false;
    setStatus("", false, "translate-status");
  } catch (error) {
    $("translation-result").hidden = true;  // not the translation of what the box holds now
    setStatus(error.message, true, "translate-status");
  } finally {
    $("translate").disabled = false;
  }
}

// Switch the page to the translation form: the classifier's sections hidden, the beam size
// limited to the server's max_beam and preset to the run's beam (when /model tells it).
function showTranslation(info) {
  for (const id of ["classify-form", "result", "explanation"]) $(id).hidden = true;
  $("translate-form").hidden = false;
  const limit = info.limits ? info.limits.max_beam : undefined;
  const decode = info.config ? info.config.decode : undefined;
  if (limit) {
    $("beam").max = limit;
    $("nbest").max = limit;
    $("beam-note").textContent = `(at most ${limit} on this server)`;
  }
  if (decode && decode.beam) $("beam").value = limit ? Math.min(decode.beam, limit) : decode.beam;
  else $("beam").placeholder = "run's";
  const bleu = info.metrics && info.metrics.bleu !== undefined
    ? ` · test BLEU ${info.metrics.bleu.toFixed(2)}` : "";
  const data = info.config && info.config.data ? info.config.data : {};
  const pair = data.source_lang && data.target_lang ? `${data.source_lang} → ${data.target_lang} · ` : "";
  $("model-info").textContent = `translation · ${pair}engine ${info.engine}${bleu}`;
}

async function loadModel() {
  try {
    const info = await (await fetch("/model")).json();
    if (info.task === "translate") {
      showTranslation(info);
      return;
    }
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
$("translate").addEventListener("click", translate);
$("source").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) translate();
});
loadModel();
