// The live group dashboard: server-sent events from the control loop's LiveBoard,
// and a uPlot history chart (last hour / last day) that live points are appended to.
(function () {
  "use strict";
  const root = document.getElementById("dashboard");
  if (!root) return;
  const groupId = root.dataset.group;
  const fuse = parseFloat(root.dataset.fuse) || 1;
  const fmt = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(1) + " A");
  let chart = null;
  let series = null;
  let windowName = "hour";

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderLines(lines) {
    const box = document.getElementById("lines");
    box.replaceChildren();
    for (const l of lines) {
      const row = el("div", "line");
      row.dataset.line = l.line;
      const scale = Math.max(fuse, l.fuse_a || 0, l.load_a || 0);
      const pct = (a) => Math.max(0, Math.min(100, (100 * a) / scale)) + "%";
      const other = Math.max(0, l.load_a - l.chargers_a);
      const bar = el("div", "bar");
      const o = el("span", "seg other"); o.style.width = pct(other);
      const c = el("span", "seg chargers"); c.style.width = pct(l.chargers_a);
      const lim = el("span", "mark limit"); lim.style.left = pct(other + l.limit_a);
      lim.title = "chargers' limit now: " + fmt(l.limit_a);
      const grp = el("span", "mark group"); grp.style.left = pct(other + l.group_limit_a);
      grp.title = "group limit: " + fmt(l.group_limit_a);
      bar.append(o, c, lim, grp);
      const label = el("div", "line-label");
      label.append(el("strong", "", l.line + " "),
        el("span", "value", fmt(l.load_a)),
        el("span", "muted", " of " + fmt(l.fuse_a) + " fuse · chargers " + fmt(l.chargers_a) +
          " (may use " + fmt(l.limit_a) + ")" + (l.binding ? " · limited by " + l.binding : "")));
      row.append(label, bar);
      box.append(row);
    }
  }

  function renderChargers(chargers) {
    const body = document.querySelector("#live-chargers tbody");
    for (const c of chargers) {
      let row = body.querySelector('tr[data-serial="' + CSS.escape(c.serial) + '"]');
      if (!row) {
        row = el("tr");
        row.dataset.serial = c.serial;
        row.append(el("td", "mono", c.serial), el("td", "state"), el("td", "setpoint"),
          el("td", "actual"), el("td", "reason"));
        body.append(row);
      }
      row.querySelector(".state").textContent = c.state.replace(/_/g, " ") +
        (c.online || c.state === "offline" ? "" : " (offline)");
      row.querySelector(".state").className = "state st-" + c.state;
      row.querySelector(".setpoint").textContent = fmt(c.setpoint_a);
      row.querySelector(".actual").textContent = c.actual_a.length
        ? c.actual_a.map((a) => Number(a).toFixed(1)).join(" / ") + " A" : "—";
      row.querySelector(".reason").textContent =
        (c.reason || "—") + (c.needs ? " · " + c.needs : "");
    }
  }

  function renderMeter(m) {
    const state = document.getElementById("meter-state");
    state.textContent = m.online ? "online" : "offline";
    state.className = "badge " + (m.online ? "online" : "offline");
    const detail = document.getElementById("meter-detail");
    const parts = m.current_a.map((a, i) => "L" + (i + 1) + " " + Number(a).toFixed(1) + " A");
    detail.textContent = (parts.length ? parts.join(" · ") : "no reading") +
      (m.age_s !== null && m.age_s !== undefined ? " · " + Number(m.age_s).toFixed(1) + " s old" : "") +
      (m.online ? "" : " · chargers share the offline budget");
  }

  function render(live) {
    if (!live) return;
    document.getElementById("live-empty").hidden = true;
    document.getElementById("live-at").textContent = new Date(live.at).toLocaleTimeString();
    renderMeter(live.meter);
    renderLines(live.lines);
    renderChargers(live.chargers);
    appendPoint(live);
  }

  function appendPoint(live) {
    if (!series) return;
    const t = Date.parse(live.at) / 1000;
    const last = series[0].length ? series[0][series[0].length - 1] : 0;
    if (t <= last) return;
    const m = live.meter.current_a;
    const total = live.chargers.reduce((s, c) => s + (c.setpoint_a || 0), 0);
    const values = [t, m[0] ?? null, m[1] ?? null, m[2] ?? null, total];
    values.forEach((v, i) => series[i].push(v));
    const span = windowName === "hour" ? 3600 : 86400;
    while (series[0].length && series[0][0] < t - span) series.forEach((s) => s.shift());
    document.getElementById("history-empty").hidden = true;
    chart && chart.setData(series);
  }

  function drawChart(data) {
    series = [data.t, data.meter_l1_a, data.meter_l2_a, data.meter_l3_a, data.setpoint_total_a];
    document.getElementById("history-empty").hidden = data.t.length > 0;
    const box = document.getElementById("history-chart");
    const width = Math.max(320, box.clientWidth || 800);
    if (chart) chart.destroy();
    chart = new uPlot({
      width: width, height: 260,
      series: [{}, { label: "Meter L1", stroke: "#1f77b4", unit: "A" },
        { label: "Meter L2", stroke: "#ff7f0e" }, { label: "Meter L3", stroke: "#2ca02c" },
        { label: "Chargers' setpoints (sum)", stroke: "#9467bd", dash: [6, 4] }],
      axes: [{}, { label: "A" }],
    }, series, box);
  }

  function loadHistory() {
    fetch("/api/v1/groups/" + groupId + "/history?window=" + windowName, { credentials: "same-origin" })
      .then((r) => r.json()).then(drawChart)
      .catch(() => { document.getElementById("history-empty").hidden = false; });
  }

  for (const b of document.querySelectorAll("button.window")) {
    b.addEventListener("click", () => {
      windowName = b.dataset.window;
      for (const o of document.querySelectorAll("button.window")) o.setAttribute("aria-pressed", String(o === b));
      loadHistory();
    });
  }

  // "What a car needs": PUT /api/v1/chargers/{serial}/needs with the portal session.
  const needsForm = document.getElementById("needs-form");
  if (needsForm) {
    needsForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const out = document.getElementById("needs-result");
      const serial = needsForm.elements.serial.value;
      const body = {};
      const energy = needsForm.elements.energy_kwh.value;
      const leaves = needsForm.elements.departure.value;
      if (energy) body.energy_kwh = Number(energy);
      if (leaves) body.departure = new Date(leaves).toISOString(); // the browser's zone
      const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
      fetch("/api/v1/chargers/" + encodeURIComponent(serial) + "/needs", {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf || "" },
        body: JSON.stringify(body),
      }).then((r) => r.json().then((data) => ({ ok: r.ok, data: data })))
        .then(({ ok, data }) => {
          out.className = ok ? "" : "warn";
          if (!ok) { out.textContent = data.message || "not accepted"; return; }
          const parts = [];
          if (data.energy_kwh !== null) parts.push(Number(data.energy_kwh).toFixed(1) + " kWh");
          if (data.departure) parts.push("leaves " + new Date(data.departure).toLocaleString());
          out.textContent = "Told for " + data.serial + ": " + parts.join(", ");
        })
        .catch(() => { out.className = "warn"; out.textContent = "could not reach the server"; });
    });
  }

  const initial = JSON.parse(document.getElementById("live-initial").textContent);
  render(initial);
  window.addEventListener("load", loadHistory);

  const conn = document.getElementById("live-connection");
  const source = new EventSource("/api/v1/groups/" + groupId + "/live/stream");
  source.addEventListener("open", () => { conn.textContent = "live"; });
  source.addEventListener("error", () => { conn.textContent = "reconnecting…"; });
  source.addEventListener("live", (e) => render(JSON.parse(e.data)));
})();
