// The overview's live figures: fetch the summary every few seconds and redraw (plain SVG, no library).
"use strict";
(function () {
  var REFRESH_MS = 3000;
  var COLORS = ["#1d3557", "#e63946", "#2a9d8f", "#f4a261", "#6a4c93", "#8ab17d", "#457b9d", "#b5838d", "#264653", "#e9c46a"];
  // every message type gets a colour of its own: past the fixed ten, hues spaced by the golden angle
  function color(k) { return k < COLORS.length ? COLORS[k] : "hsl(" + Math.round((k * 137.508) % 360) + ", 55%, 50%)"; }
  var SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, parent) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(id, value) { var n = document.getElementById(id); if (n) n.textContent = value; }
  function row(cells, classes) {
    var tr = document.createElement("tr");
    cells.forEach(function (c, i) {
      var td = document.createElement("td");
      td.textContent = c;
      if (classes && classes[i]) td.className = classes[i];
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(id, rows, empty, width) {
    var body = document.getElementById(id);
    if (!body) return;
    body.replaceChildren();
    rows.forEach(function (r) { body.appendChild(r); });
    if (!rows.length && empty) { var tr = row([empty]); tr.firstChild.colSpan = width || 3; tr.firstChild.className = "muted"; body.appendChild(tr); }
  }
  function fmt(seconds) { return seconds == null ? "–" : (seconds < 1 ? (seconds * 1000).toFixed(1) + " ms" : seconds.toFixed(2) + " s"); }

  function drawChart(t) {
    var box = document.getElementById("chart");
    if (!box) return;
    var names = Object.keys(t.series).sort(function (a, b) {
      return sum(t.series[b]) - sum(t.series[a]);
    });
    // every message type with traffic is a series of its own (no "other" that hides the mix)
    var series = names.map(function (n) { return { name: n, values: t.series[n] }; });
    var W = 900, H = 260, L = 40, B = 22, T = 8;
    var max = 1;
    t.starts.forEach(function (_, i) {
      var s = series.reduce(function (a, x) { return a + x.values[i]; }, 0);
      if (s > max) max = s;
    });
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img", "aria-label": "throughput per message type" });
    var n = t.starts.length, bw = (W - L) / n;
    for (var g = 0; g <= 4; g++) {
      var y = T + (H - B - T) * (1 - g / 4);
      el("line", { x1: L, x2: W, y1: y, y2: y, stroke: "#e6e9ee" }, svg);
      el("text", { x: L - 6, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#6b7787" }, svg).textContent = Math.round(max * g / 4);
    }
    for (var i = 0; i < n; i++) {
      var base = 0;
      series.forEach(function (s, k) {
        var v = s.values[i];
        if (!v) return;
        var h = (H - B - T) * v / max;
        var y0 = H - B - (H - B - T) * base / max - h;
        var r = el("rect", { x: L + i * bw + 0.5, y: y0, width: Math.max(bw - 1, 1), height: h, fill: color(k) }, svg);
        el("title", {}, r).textContent = s.name + ": " + v;
        base += v;
      });
      if (i % 18 === 0 || i === n - 1) {
        var d = new Date(t.starts[i] * 1000);
        var anchor = i === n - 1 ? "end" : "start";
        el("text", { x: L + (i === n - 1 ? n : i) * bw, y: H - 6, "font-size": 11, fill: "#6b7787", "text-anchor": anchor }, svg).textContent =
          d.toTimeString().slice(0, 5);
      }
    }
    box.replaceChildren(svg);
    var legend = document.getElementById("legend");
    legend.replaceChildren();
    series.forEach(function (s, k) {
      var span = document.createElement("span");
      var dot = document.createElement("i");
      dot.style.background = color(k);
      span.appendChild(dot);
      span.appendChild(document.createTextNode(s.name + " " + sum(s.values)));
      span.setAttribute("data-message", s.name);
      legend.appendChild(span);
    });
  }
  function sum(a) { return a.reduce(function (s, v) { return s + v; }, 0); }

  function render(s) {
    text("accepted-15m", s.window.accepted);
    text("accepted-1m", s.window.acceptedLastMinute);
    text("refused-15m", s.window.refused);
    text("refusal-rate", (s.window.refusalRate * 100).toFixed(1) + " %");
    var dlq = s.dlq || {};
    text("dlq-total", Object.keys(dlq).reduce(function (a, k) { return a + dlq[k]; }, 0));
    var links = s.links || [];
    text("link-health", links.length ? links.filter(function (l) { return l.up; }).length + "/" + links.length + " up" : "n/a");
    text("updated", s.generatedAt);
    drawChart(s.throughput);
    fill("refusals", s.topRefusals.map(function (r) {
      var reasons = (r.reasons || [{ reason: r.reason, count: r.count }]).map(function (x) { return x.reason + " " + x.count; }).join(", ");
      return row([r.code, reasons, r.count], ["", "", "num"]);
    }), "none");
    var linkRows = links.map(function (l) { return row([l.name, l.state], ["", l.up ? "ok" : "bad"]); });
    (s.linkQueues || []).forEach(function (q) { linkRows.push(row([q.node + " " + q.queue, q.messages + " waiting"])); });
    Object.keys(dlq).forEach(function (k) { linkRows.push(row([k + " dlq", dlq[k] + " dead letters"], ["", dlq[k] ? "bad" : "ok"])); });
    fill("links", linkRows, "no broker figures yet", 2);
    fill("mailboxes", (s.mailboxes || []).slice(0, 15).map(function (m) { return row([m.node, m.party, m.messages], ["", "", "num"]); }), "none");
    var lat = [];
    Object.keys(s.latency).forEach(function (node) {
      [["confirm", "receipt → confirm"], ["linkLag", "receipt → link"], ["mailbox", "receipt → mailbox"]].forEach(function (w) {
        var q = s.latency[node][w[0]];
        if (q.count) lat.push(row([node, w[1], q.count, fmt(q.p50), fmt(q.p95)], ["", "", "num", "num", "num"]));
      });
    });
    fill("latency", lat, "no messages yet", 5);
  }

  function tick() {
    fetch("/dashboard/api/summary?scope=node", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (r.status === 401) { window.location = "/dashboard/login"; } return r.json(); })
      .then(render)
      .catch(function () { text("updated", "(no answer from the gateway)"); })
      .finally(function () { setTimeout(tick, REFRESH_MS); });
  }
  tick();
})();
