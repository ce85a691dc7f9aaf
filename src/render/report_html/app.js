// The timeline of `kblame report --format html`: lanes workload → revision → pod drawn from the
// JSON in #kblame-data. Only the rows in view are in the DOM (virtualised), so a trace with
// thousands of pods stays usable. Every value from the trace is set with textContent, never
// as markup. Deep links: #obj=Kind/namespace/name or #obj=UID.
(function () {
  "use strict";
  var started = performance.now();
  var data = JSON.parse(document.getElementById("kblame-data").textContent);
  var ROW = 22;
  var LABEL = 330;
  var PALETTE = ["#4e79a7", "#b07aa1", "#76b7b2", "#9c755f", "#edc948", "#59a14f", "#ff9da7", "#86bcb6", "#8cd17d", "#bab0ac"];
  var LIFECYCLE = { "pod-created": 1, "pod-scheduled": 1, "pod-started": 1, "pod-ready": 1, "pod-not-ready": 1, "pod-deleting": 1, "pod-deleted": 1, "deleted": 1 };

  var T0 = Date.parse(data.start);
  var T1 = Date.parse(data.end);
  if (!(T1 > T0)) { T1 = T0 + 60000; }
  var view = { v0: T0, v1: T1 };

  // ---- data → nodes --------------------------------------------------------------------

  function ms(text) { return text ? Date.parse(text) : null; }
  function prepMarks(marks) {
    marks.forEach(function (m) { m.t = ms(m.time); m.u = ms(m.until); m.fields = m.fields || []; m.cls = markClass(m); });
    return marks;
  }
  function markClass(m) {
    if (m.kind === "spec-change" || m.kind === "scale") { return "change"; }
    if (m.kind === "pod-restarted") { return "restart"; }
    if (m.kind === "pod-evicted") { return "evicted"; }
    if (m.kind === "condition") { return "condition"; }
    if (m.kind === "event") {
      if (m.reason === "Unhealthy") { return "probe"; }
      return m.severity === "warning" ? "warning" : "event";
    }
    if (LIFECYCLE[m.kind]) { return null; }
    return m.severity === "failure" ? "failure" : "event";
  }
  function key(o) { return o.kind + "/" + o.namespace + "/" + o.name; }
  function life(l) { return l ? { from: ms(l.from), to: ms(l.to), before: l.before } : null; }

  var nodes = [];
  var byKey = Object.create(null);
  function add(node, parent) {
    node.parent = parent || null;
    node.depth = parent ? parent.depth + 1 : 0;
    node.children = [];
    node.index = nodes.length;
    nodes.push(node);
    if (parent) { parent.children.push(node); }
    if (node.obj) {
      byKey[key(node.obj).toLowerCase()] = node;
      if (node.obj.uid) { byKey[node.obj.uid.toLowerCase()] = node; }
    }
    return node;
  }

  var lanesInData = data.others.length;
  data.workloads.forEach(function (w) {
    w.revisions.forEach(function (r) { lanesInData += 1 + r.pods.length; });
  });
  var small = lanesInData <= 300;
  data.workloads.forEach(function (w) {
    // Small traces open every lane; large ones open the failed and failing workloads.
    var open = small || w.status === "failed" || w.status === "failing";
    var wn = add({ type: "workload", obj: w.object, status: w.status, verdict: w.verdict, owner: w.owner,
      life: life(w.life), marks: prepMarks(w.marks), open: open });
    w.revisions.forEach(function (r, i) {
      var color = PALETTE[i % PALETTE.length];
      var rn = add({ type: "revision", obj: r.carrier, revision: r.revision, color: color, life: life(r.life),
        marks: prepMarks(r.marks), open: r.pods.length <= 60 }, wn);
      r.pods.forEach(function (p) {
        add({ type: "pod", obj: p.object, color: color, life: life(p.life), marks: prepMarks(p.marks),
          spans: p.spans.map(function (s) { return { from: ms(s.from), state: s.state }; }) }, rn);
      });
    });
  });
  if (data.others.length) {
    var section = add({ type: "section", obj: null, marks: [], open: small || data.others.length <= 30 });
    data.others.forEach(function (o) {
      add({ type: "object", obj: o.object, color: "#9aa1ad", life: life(o.life), marks: prepMarks(o.marks),
        spans: o.spans.map(function (s) { return { from: ms(s.from), state: s.state }; }) }, section);
    });
  }
  var gaps = data.gaps.map(function (g) { return { t: ms(g.start), u: g.end ? ms(g.end) : T1, g: g }; });
  var traceMarks = prepMarks(data.marks);

  // ---- rows ------------------------------------------------------------------------------

  var rows = [];
  var filterText = "";
  function matches(node) {
    if (node.match !== undefined) { return node.match; }
    var own = label(node).toLowerCase().indexOf(filterText) >= 0;
    var child = false;
    node.children.forEach(function (c) { if (matches(c)) { child = true; } });
    node.match = own || child;
    node.childMatch = child;
    return node.match;
  }
  function layout() {
    rows = [];
    nodes.forEach(function (n) { n.match = undefined; });
    function walk(n) {
      if (filterText && !matches(n)) { return; }
      rows.push(n);
      var open = filterText ? n.childMatch : n.open;
      if (open) { n.children.forEach(walk); }
    }
    nodes.forEach(function (n) { if (!n.parent) { walk(n); } });
    spacer.style.height = rows.length * ROW + "px";
    document.body.dataset.rows = String(rows.length);
  }

  function label(node) {
    var o = node.obj;
    switch (node.type) {
      case "workload": return o.kind + " " + (o.namespace ? o.namespace + "/" : "") + o.name;
      case "revision":
        var carrier = o ? o.kind + " " + o.name : "";
        if (node.revision === null || node.revision === undefined) { return carrier || "pods"; }
        return "revision " + node.revision + (carrier ? " · " + carrier : "");
      case "pod": return o.name;
      case "section": return "other objects (" + node.children.length + ")";
      default: return o.kind + " " + (o.namespace ? o.namespace + "/" : "") + o.name;
    }
  }

  // ---- geometry --------------------------------------------------------------------------

  var lanes = document.getElementById("lanes");
  var spacer = document.getElementById("spacer");
  var rowsEl = document.getElementById("rows");
  var gapsEl = document.getElementById("gaps");
  var axis = document.getElementById("axis");
  var overview = document.getElementById("overview");
  var tip = document.getElementById("tip");
  var detail = document.getElementById("detail");
  var detailBody = document.getElementById("detail-body");
  function width() { return Math.max(100, lanes.clientWidth - LABEL); }
  function x(t) { return (t - view.v0) / (view.v1 - view.v0) * width(); }
  function tAt(px) { return view.v0 + px / width() * (view.v1 - view.v0); }

  function iso(t) { return new Date(t).toISOString().replace(".000Z", "Z"); }
  function clock(t, step) {
    var s = new Date(t).toISOString();
    return step >= 60000 ? s.slice(11, 16) : s.slice(11, 19);
  }

  // ---- drawing ---------------------------------------------------------------------------

  var selected = null;
  var frame = 0;
  function draw() {
    if (frame) { return; }
    frame = requestAnimationFrame(function () { frame = 0; drawNow(); });
  }
  function drawNow() {
    drawAxis();
    drawGaps();
    drawRows();
    drawOverview();
    document.getElementById("range").textContent = iso(view.v0) + " → " + iso(view.v1) + " (UTC)";
  }

  var STEPS = [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5];
  function drawAxis() {
    axis.textContent = "";
    var w = width();
    var span = view.v1 - view.v0;
    var step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) { if (span / STEPS[i] <= w / 80) { step = STEPS[i]; break; } }
    for (var t = Math.ceil(view.v0 / step) * step; t <= view.v1; t += step) {
      var tick = document.createElement("div");
      tick.className = "tick";
      tick.style.left = x(t) + "px";
      tick.textContent = clock(t, step);
      axis.appendChild(tick);
    }
    gaps.forEach(function (g) {
      var el = document.createElement("div");
      el.className = "gapmark";
      el.style.left = Math.max(0, x(g.t)) + "px";
      el.style.width = Math.max(2, x(g.u) - Math.max(0, x(g.t))) + "px";
      el.title = "watch gap: " + g.g.resource;
      axis.appendChild(el);
    });
    document.getElementById("axis-day").textContent = "UTC " + new Date(view.v0).toISOString().slice(0, 10);
  }

  function drawGaps() {
    gapsEl.textContent = "";
    gaps.forEach(function (g) {
      var a = x(g.t), b = x(g.u);
      if (b < 0 || a > width()) { return; }
      var el = document.createElement("div");
      el.className = "gap";
      el.dataset.gap = g.g.resource;
      el.style.left = Math.max(0, a) + "px";
      el.style.width = Math.max(3, Math.min(width(), b) - Math.max(0, a)) + "px";
      gapsEl.appendChild(el);
    });
    traceMarks.forEach(function (m) {
      if (m.kind !== "relist" && m.kind !== "gap") { return; }
      var px = x(m.t);
      if (px < 0 || px > width()) { return; }
      var el = document.createElement("div");
      el.className = "vline";
      el.style.left = px + "px";
      gapsEl.appendChild(el);
    });
  }

  function drawRows() {
    var top = lanes.scrollTop;
    var first = Math.max(0, Math.floor(top / ROW) - 5);
    var last = Math.min(rows.length, Math.ceil((top + lanes.clientHeight) / ROW) + 5);
    rowsEl.textContent = "";
    var fragment = document.createDocumentFragment();
    for (var i = first; i < last; i++) { fragment.appendChild(rowEl(rows[i], i)); }
    rowsEl.appendChild(fragment);
    document.body.dataset.drawnRows = String(last - first);
  }

  function rowEl(node, i) {
    var row = document.createElement("div");
    row.className = "row depth-" + node.depth + " type-" + node.type + (node === selected ? " selected" : "");
    row.style.top = i * ROW + "px";
    row.dataset.index = String(node.index);
    if (node.obj) {
      row.dataset.lane = key(node.obj);
      row.dataset.kind = node.obj.kind;
      if (node.obj.uid) { row.dataset.uid = node.obj.uid; }
    }
    if (node.type === "revision" && node.revision !== null && node.revision !== undefined) {
      row.dataset.revision = String(node.revision);
    }
    if (node.status) { row.dataset.status = node.status; }
    row.appendChild(labelEl(node));
    var track = document.createElement("div");
    track.className = "track";
    drawBars(node, track);
    drawMarks(node, track);
    row.appendChild(track);
    return row;
  }

  function labelEl(node) {
    var el = document.createElement("div");
    el.className = "label";
    el.style.paddingLeft = 4 + node.depth * 14 + "px";
    var tw = document.createElement("span");
    tw.className = "tw";
    tw.textContent = node.children.length ? (node.open || filterText ? "▼" : "▶") : "";
    el.appendChild(tw);
    if (node.color) {
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = node.color;
      el.appendChild(sw);
    }
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = label(node);
    el.appendChild(name);
    el.title = label(node) + (node.obj && node.obj.uid ? "\nuid " + node.obj.uid : "");
    if (node.status) {
      var badge = document.createElement("span");
      badge.className = "badge " + node.status;
      badge.textContent = node.status === "ok" ? (node.verdict || "ok") : node.status;
      el.appendChild(badge);
    }
    return el;
  }

  function bar(track, from, to, cls, color) {
    var a = Math.max(-2, x(from)), b = Math.min(width() + 2, x(to));
    if (b < 0 || a > width() || b - a < 0.5) { return null; }
    var el = document.createElement("div");
    el.className = "bar " + cls;
    el.style.left = a + "px";
    el.style.width = Math.max(1, b - a) + "px";
    if (color) { el.style.backgroundColor = color; }
    track.appendChild(el);
    return el;
  }

  function drawBars(node, track) {
    var l = node.life;
    if (!l) { return; }
    var from = l.before ? Math.min(l.from, T0) : l.from;
    var to = l.to === null ? T1 : l.to;
    if (node.spans && node.spans.length) {
      node.spans.forEach(function (s, i) {
        var next = i + 1 < node.spans.length ? node.spans[i + 1].from : to;
        var el = bar(track, i === 0 ? from : s.from, next, "st-" + s.state, node.color);
        if (el) { el.dataset.state = s.state; }
      });
    } else if (node.type === "revision") {
      var el = bar(track, from, to, "thin", null);
      if (el) { el.style.backgroundColor = node.color; el.style.opacity = ".55"; }
    } else {
      bar(track, from, to, "thin", null);
    }
  }

  function lowerBound(marks, t) {
    var lo = 0, hi = marks.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if ((marks[mid].u || marks[mid].t) < t) { lo = mid + 1; } else { hi = mid; } }
    return lo;
  }

  // Marks closer than 4 px of the same class are drawn once with their count: a crash loop of
  // hours stays a handful of nodes.
  function drawMarks(node, track) {
    var marks = node.marks;
    if (!marks.length) { return; }
    var w = width();
    var last = {};
    var drawn = 0;
    for (var i = lowerBound(marks, view.v0 - 1); i < marks.length && drawn < 600; i++) {
      var m = marks[i];
      if (!m.cls) { continue; }
      if (m.t > view.v1) { break; }
      var px = x(m.t);
      if (px < -6 || px > w + 6) { continue; }
      var prev = last[m.cls];
      if (prev && px - prev.px < 4) {
        prev.list.push(m);
        prev.el.dataset.count = String(prev.list.length);
        continue;
      }
      var el = document.createElement("div");
      el.className = "mk mk-" + m.cls + (m.kind === "scale" ? " scale" : "") + (m.change && m.change.blamed ? " blamed" : "") + (m.cls === "condition" ? " " + m.severity : "");
      el.style.left = px + "px";
      el.dataset.kind = m.kind;
      el.dataset.time = m.time;
      el.dataset.node = String(node.index);
      el.dataset.mark = String(i);
      if (m.reason) { el.dataset.reason = m.reason; }
      if (m.change && m.change.manager) { el.dataset.manager = m.change.manager; }
      if (m.change && m.change.blamed) { el.dataset.blamed = "true"; }
      track.appendChild(el);
      last[m.cls] = { px: px, el: el, list: [m] };
      drawn++;
    }
  }

  // Density of failures (red) and changes (blue) over the whole window, and the view's box.
  var density = null;
  function computeDensity(bins) {
    var fail = new Array(bins).fill(0), change = new Array(bins).fill(0);
    function put(m) {
      if (!m.cls) { return; }
      var b = Math.floor((m.t - T0) / (T1 - T0) * bins);
      if (b < 0 || b >= bins) { return; }
      if (m.cls === "change") { change[b]++; } else if (m.cls !== "event") { fail[b]++; }
    }
    nodes.forEach(function (n) { n.marks.forEach(put); });
    return { fail: fail, change: change, max: Math.max(1, Math.max.apply(null, fail), Math.max.apply(null, change)) };
  }
  function drawOverview() {
    var w = overview.clientWidth || 600, h = 36;
    if (overview.width !== w) { overview.width = w; density = null; }
    if (!density) { density = computeDensity(Math.max(1, Math.floor(w / 2))); }
    var ctx = overview.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    var bins = density.fail.length, bw = w / bins;
    function ox(t) { return (t - T0) / (T1 - T0) * w; }
    gaps.forEach(function (g) { ctx.fillStyle = "rgba(110,110,110,.25)"; ctx.fillRect(ox(g.t), 0, Math.max(2, ox(g.u) - ox(g.t)), h); });
    for (var i = 0; i < bins; i++) {
      var f = density.fail[i], c = density.change[i];
      if (f) { var fh = 4 + Math.sqrt(f / density.max) * (h - 8); ctx.fillStyle = "#d32f2f"; ctx.fillRect(i * bw, h - fh, Math.max(1, bw - 0.5), fh); }
      if (c) { var ch = 4 + Math.sqrt(c / density.max) * (h - 8); ctx.fillStyle = "rgba(36,59,107,.85)"; ctx.fillRect(i * bw, h - ch, Math.max(1, bw / 2), ch); }
    }
    var a = ox(view.v0), b = ox(view.v1);
    ctx.fillStyle = "rgba(31,95,191,.12)";
    ctx.fillRect(a, 0, Math.max(2, b - a), h);
    ctx.strokeStyle = "#1f5fbf";
    ctx.lineWidth = 1.5;
    ctx.strokeRect(a + 0.75, 0.75, Math.max(2, b - a) - 1.5, h - 1.5);
    if (brush) {
      ctx.fillStyle = "rgba(224,168,0,.3)";
      ctx.fillRect(Math.min(brush.a, brush.b), 0, Math.abs(brush.b - brush.a), h);
    }
  }

  // ---- legend ----------------------------------------------------------------------------

  function legend() {
    var el = document.getElementById("legend");
    function item(make, text) {
      var span = document.createElement("span");
      span.className = "item";
      span.appendChild(make());
      span.appendChild(document.createTextNode(text));
      el.appendChild(span);
    }
    function sw(cls, color) {
      return function () { var s = document.createElement("span"); s.className = "sw " + cls; s.style.backgroundColor = color; return s; };
    }
    function mk(cls) {
      return function () {
        var wrap = document.createElement("span");
        wrap.style.cssText = "position:relative;display:inline-block;width:16px;height:16px";
        var m = document.createElement("span"); m.className = "mk " + cls; m.style.left = "50%"; wrap.appendChild(m); return wrap;
      };
    }
    item(sw("", PALETTE[0]), "ready (bar colour = revision)");
    item(sw("st-pending", PALETTE[0]), "starting");
    item(sw("st-not-ready", PALETTE[0]), "not ready");
    item(sw("st-failing", PALETTE[1]), "failing (crash loop, failed)");
    item(sw("st-terminating", "#9aa1ad"), "terminating");
    item(mk("mk-change"), "change");
    item(mk("mk-change blamed"), "blamed change");
    item(mk("mk-change scale"), "scale");
    item(mk("mk-restart"), "restart");
    item(mk("mk-probe"), "probe failure");
    item(mk("mk-warning"), "Warning Event");
    item(mk("mk-event"), "Event");
    item(mk("mk-condition failure"), "condition");
    item(mk("mk-evicted"), "evicted");
    item(sw("gapsw", "transparent"), "watch gap (events may be missing)");
  }

  // ---- tooltip and detail ----------------------------------------------------------------

  function markText(m, all) {
    var lines = [iso(m.t) + (m.u ? " … " + iso(m.u) : "") + (m.line ? "  (trace line " + m.line + ")" : "")];
    var head = m.reason ? (m.severity === "warning" ? "Warning " : "Normal ") + m.reason + (m.count > 1 ? " ×" + m.count : "") + ": " : "";
    lines.push(head + m.summary);
    if (m.change) {
      var c = m.change;
      lines.push("by " + (c.manager || "an unknown manager") + (c.operation ? " (" + c.operation + ")" : "") + (c.user ? ", user " + c.user : "") + (c.blamed ? " — BLAMED for the failure" : ""));
      lines.push("evidence: " + c.attribution + " [" + c.confidence + " confidence]");
    }
    var fields = all ? m.fields : m.fields.slice(0, 6);
    fields.forEach(function (f) { lines.push("  " + f.path + ": " + value(f.from) + " → " + value(f.to)); });
    if (m.fields.length > fields.length) { lines.push("  … " + (m.fields.length - fields.length) + " more (click)"); }
    return lines.join("\n");
  }
  function value(v) {
    if (v === null || v === undefined) { return "(none)"; }
    var s = typeof v === "string" ? v : JSON.stringify(v);
    return s.length > 300 ? s.slice(0, 299) + "…" : s;
  }
  function marksOf(el) {
    var node = nodes[+el.dataset.node];
    var i = +el.dataset.mark;
    var n = +(el.dataset.count || 1);
    var found = [], m0 = node.marks[i];
    for (var j = i; j < node.marks.length && found.length < n; j++) {
      if (node.marks[j].cls === m0.cls) { found.push(node.marks[j]); }
    }
    return { node: node, marks: found };
  }

  function showTip(el, ev) {
    var got = marksOf(el);
    var text = got.marks.slice(0, 4).map(function (m) { return markText(m, false); }).join("\n\n");
    if (got.marks.length > 4) { text += "\n\n… " + (got.marks.length - 4) + " more here (click, or zoom in)"; }
    tip.textContent = label(got.node) + "\n" + text;
    tip.hidden = false;
    var x0 = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    var y0 = ev.clientY + 16 + tip.offsetHeight > window.innerHeight ? ev.clientY - tip.offsetHeight - 10 : ev.clientY + 16;
    tip.style.left = Math.max(4, x0) + "px";
    tip.style.top = Math.max(4, y0) + "px";
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function showDetail(node, marks) {
    detailBody.textContent = "";
    var h = document.createElement("h3");
    h.textContent = label(node);
    detailBody.appendChild(h);
    var meta = document.createElement("p");
    meta.className = "meta";
    var bits = [];
    if (node.obj && node.obj.uid) { bits.push("uid " + node.obj.uid); }
    if (node.status) { bits.push("report: " + node.status + (node.verdict && node.verdict !== node.status ? " (" + node.verdict + ")" : "")); }
    if (node.owner) { bits.push("controlled by " + node.owner.kind + " " + node.owner.name); }
    if (node.life) { bits.push((node.life.before ? "existed before " : "from ") + iso(node.life.from) + (node.life.to ? " to " + iso(node.life.to) : "")); }
    meta.textContent = bits.join(" · ");
    detailBody.appendChild(meta);
    var table = document.createElement("table");
    var list = marks || node.marks;
    list.slice(0, 300).forEach(function (m) {
      var tr = document.createElement("tr");
      cell(tr, iso(m.t).slice(11), "t");
      var td = cell(tr, "", "");
      var head = document.createElement("div");
      head.textContent = (m.reason ? (m.severity === "warning" ? "Warning " : "Normal ") + m.reason + (m.count > 1 ? " ×" + m.count : "") + ": " : "") + m.summary;
      td.appendChild(head);
      if (m.change) {
        var by = document.createElement("div");
        by.className = "meta";
        var c = m.change;
        by.textContent = "by " + (c.manager || "an unknown manager") + (c.operation ? " (" + c.operation + ")" : "") + (c.user ? ", user " + c.user : "") + (c.blamed ? " — blamed" : "") + " · " + c.attribution + " [" + c.confidence + "]";
        td.appendChild(by);
      }
      m.fields.forEach(function (f) {
        var d = document.createElement("div");
        d.className = "field";
        var p = document.createElement("span"); p.textContent = f.path + ": "; d.appendChild(p);
        var o = document.createElement("span"); o.className = "old"; o.textContent = value(f.from); d.appendChild(o);
        d.appendChild(document.createTextNode(" → "));
        var n = document.createElement("span"); n.className = "new"; n.textContent = value(f.to); d.appendChild(n);
        td.appendChild(d);
      });
      table.appendChild(tr);
    });
    if (list.length > 300) {
      var tr = document.createElement("tr"); cell(tr, "", "t"); cell(tr, "… " + (list.length - 300) + " more: zoom in", ""); table.appendChild(tr);
    }
    if (!list.length) { var e = document.createElement("tr"); cell(e, "", "t"); cell(e, "nothing recorded in the window", ""); table.appendChild(e); }
    detailBody.appendChild(table);
    detail.hidden = false;
  }

  // ---- selection and deep links -----------------------------------------------------------

  function find(target) {
    var t = target.toLowerCase();
    if (byKey[t]) { return byKey[t]; }
    var parts = t.split("/");
    if (parts.length === 2) { return byKey[parts[0] + "//" + parts[1]] || null; }
    return null;
  }
  function reveal(node) {
    for (var p = node.parent; p; p = p.parent) { p.open = true; }
    if (filterText && !matches(node)) { filterText = ""; document.getElementById("filter").value = ""; }
    layout();
    var i = rows.indexOf(node);
    if (i >= 0) { lanes.scrollTop = Math.max(0, i * ROW - lanes.clientHeight / 3); }
  }
  function fromHash() {
    var hash = location.hash.replace(/^#/, "");
    var m = /^obj=(.+)$/.exec(hash);
    if (!m) { return; }
    var target;
    try { target = decodeURIComponent(m[1]); } catch (e) { target = m[1]; }
    var node = find(target);
    if (!node) { document.body.dataset.selected = ""; return; }
    selected = node;
    document.body.dataset.selected = key(node.obj);
    reveal(node);
    showDetail(node, null);
    draw();
  }
  function select(node) {
    if (!node.obj) { return; }
    var hash = "#obj=" + encodeURIComponent(key(node.obj)).replace(/%2F/g, "/");
    if (location.hash !== hash) { history.replaceState(null, "", hash); }
    selected = node;
    document.body.dataset.selected = key(node.obj);
    showDetail(node, null);
    draw();
  }

  // ---- interaction -----------------------------------------------------------------------

  function zoom(factor, at) {
    var span = view.v1 - view.v0;
    var next = Math.min(T1 - T0, Math.max(1000, span * factor));
    var pivot = at === undefined ? view.v0 + span / 2 : at;
    var r = (pivot - view.v0) / span;
    setView(pivot - r * next, pivot - r * next + next);
  }
  function pan(fraction) {
    var span = view.v1 - view.v0;
    setView(view.v0 + span * fraction, view.v1 + span * fraction);
  }
  function setView(a, b) {
    var span = Math.min(T1 - T0, Math.max(1000, b - a));
    if (a < T0) { a = T0; }
    if (a + span > T1) { a = T1 - span; }
    view.v0 = a;
    view.v1 = a + span;
    draw();
  }

  lanes.addEventListener("scroll", draw, { passive: true });
  window.addEventListener("resize", function () { density = null; draw(); });
  window.addEventListener("hashchange", fromHash);

  function wheel(ev, always) {
    var horizontal = Math.abs(ev.deltaX) > Math.abs(ev.deltaY);
    if (ev.ctrlKey || ev.metaKey || ev.altKey || always) {
      ev.preventDefault();
      var rect = ev.currentTarget.getBoundingClientRect();
      var px = ev.clientX - rect.left - (ev.currentTarget === lanes ? LABEL : 0);
      var at = ev.currentTarget === overview ? T0 + (ev.clientX - rect.left) / rect.width * (T1 - T0) : tAt(px);
      zoom(Math.pow(1.0015, horizontal ? ev.deltaX : ev.deltaY), at);
    } else if (ev.shiftKey || horizontal) {
      ev.preventDefault();
      pan((horizontal ? ev.deltaX : ev.deltaY) / width());
    }
  }
  lanes.addEventListener("wheel", function (ev) { wheel(ev, false); }, { passive: false });
  axis.addEventListener("wheel", function (ev) { wheel(ev, true); }, { passive: false });
  overview.addEventListener("wheel", function (ev) { wheel(ev, true); }, { passive: false });

  var drag = null;
  lanes.addEventListener("mousedown", function (ev) {
    var track = ev.target.closest(".track");
    if (!track || ev.button !== 0 || ev.target.classList.contains("mk")) { return; }
    drag = { x: ev.clientX, v0: view.v0, v1: view.v1, moved: false, track: track };
    ev.preventDefault();
  });
  window.addEventListener("mousemove", function (ev) {
    if (drag) {
      var dx = ev.clientX - drag.x;
      if (Math.abs(dx) > 3) { drag.moved = true; drag.track.classList.add("dragging"); }
      if (drag.moved) {
        var dt = -dx / width() * (drag.v1 - drag.v0);
        setView(drag.v0 + dt, drag.v1 + dt);
      }
    }
    if (brush) { brush.b = ev.clientX - overview.getBoundingClientRect().left; drawOverview(); }
  });
  window.addEventListener("mouseup", function (ev) {
    if (drag) {
      var was = drag;
      drag = null;
      was.track.classList.remove("dragging");
      if (!was.moved) {
        var row = ev.target.closest(".row");
        if (row) { select(nodes[+row.dataset.index]); }
      }
    }
    if (brush) {
      var rect = overview.getBoundingClientRect();
      var a = Math.min(brush.a, brush.b), b = Math.max(brush.a, brush.b);
      var moved = b - a > 3;
      var ta = T0 + a / rect.width * (T1 - T0), tb = T0 + b / rect.width * (T1 - T0);
      var span = view.v1 - view.v0;
      brush = null;
      if (moved) { setView(ta, tb); } else { setView(ta - span / 2, ta + span / 2); }
    }
  });

  var brush = null;
  overview.addEventListener("mousedown", function (ev) {
    if (ev.button !== 0) { return; }
    var px = ev.clientX - overview.getBoundingClientRect().left;
    brush = { a: px, b: px };
    ev.preventDefault();
  });

  var axisDrag = null;
  axis.addEventListener("mousedown", function (ev) { axisDrag = { x: ev.clientX, v0: view.v0, v1: view.v1 }; ev.preventDefault(); });
  window.addEventListener("mousemove", function (ev) {
    if (!axisDrag) { return; }
    var dt = -(ev.clientX - axisDrag.x) / width() * (axisDrag.v1 - axisDrag.v0);
    setView(axisDrag.v0 + dt, axisDrag.v1 + dt);
  });
  window.addEventListener("mouseup", function () { axisDrag = null; });

  rowsEl.addEventListener("click", function (ev) {
    var mark = ev.target.closest(".mk");
    if (mark) {
      var got = marksOf(mark);
      showDetail(got.node, got.marks);
      return;
    }
    var lab = ev.target.closest(".label");
    if (lab) {
      var node = nodes[+lab.parentNode.dataset.index];
      if (node.children.length) { node.open = !node.open; layout(); }
      select(node);
    }
  });
  rowsEl.addEventListener("mouseover", function (ev) {
    var mark = ev.target.closest(".mk");
    if (mark) { showTip(mark, ev); } else { tip.hidden = true; }
  });
  rowsEl.addEventListener("mouseleave", function () { tip.hidden = true; });

  document.querySelector(".toolbar").addEventListener("click", function (ev) {
    var act = ev.target.dataset && ev.target.dataset.act;
    if (act === "zoom-in") { zoom(0.5); }
    if (act === "zoom-out") { zoom(2); }
    if (act === "left") { pan(-0.25); }
    if (act === "right") { pan(0.25); }
    if (act === "fit") { setView(T0, T1); }
    if (act === "expand" || act === "collapse") {
      nodes.forEach(function (n) { if (n.children.length) { n.open = act === "expand"; } });
      layout();
      draw();
    }
  });
  detail.addEventListener("click", function (ev) { if (ev.target.dataset.act === "close") { detail.hidden = true; } });
  document.getElementById("filter").addEventListener("input", function (ev) {
    filterText = ev.target.value.trim().toLowerCase();
    layout();
    lanes.scrollTop = 0;
    draw();
  });
  lanes.addEventListener("keydown", function (ev) {
    if (ev.key === "+" || ev.key === "=") { zoom(0.5); }
    else if (ev.key === "-") { zoom(2); }
    else if (ev.key === "0") { setView(T0, T1); }
    else if (ev.key === "ArrowLeft") { pan(-0.2); }
    else if (ev.key === "ArrowRight") { pan(0.2); }
    else { return; }
    ev.preventDefault();
  });

  // ---- start -------------------------------------------------------------------------------

  legend();
  layout();
  fromHash();
  drawNow();
  document.body.dataset.lanes = String(nodes.length);
  document.body.dataset.loadMs = (performance.now() - started).toFixed(1);
  document.body.dataset.pageMs = performance.now().toFixed(1);
  document.body.dataset.ready = "true";
})();
