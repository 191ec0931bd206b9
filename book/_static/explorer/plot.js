/* A learning-rate curve drawn as SVG by hand: no plotting library, no network.
 *
 * The LR of step t holds for the whole step, from t to t + 1: with few steps each is drawn as
 * that flat segment, with many as a line through the middle of each step. Curves differ in line style and marker shape as well
 * as colour (Okabe-Ito palette, set in explorer.css), so they can be told apart without colour.
 *
 * Exposes window.LRPlot = {draw, formatNumber}.
 */
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Short, exact-enough labels: 0.1, 0.0025, 1e-5, 2.5e-7.
  function formatNumber(v) {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(4)));
    const [m, e] = v.toExponential(3).split("e");
    return `${Number(m)}e${Number(e)}`;
  }

  // Loops, not Math.min(...values): spreading 10^5 arguments overflows the call stack.
  const least = (vs) => vs.reduce((a, b) => (b < a ? b : a), Infinity);
  const most = (vs) => vs.reduce((a, b) => (b > a ? b : a), -Infinity);

  function niceTicks(lo, hi, count) {
    const span = hi - lo || Math.abs(hi) || 1;
    const raw = span / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) || 10 * mag;
    const ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
    return ticks;
  }

  function logTicks(lo, hi) {
    const first = Math.ceil(Math.log10(lo) - 1e-9);
    const last = Math.floor(Math.log10(hi) + 1e-9);
    const every = Math.max(1, Math.ceil((last - first + 1) / 6));
    const ticks = [];
    for (let e = first; e <= last; e += every) ticks.push(Math.pow(10, e));
    return ticks;
  }

  // series: [{lrs, className, label, marker: "circle" | "square"}]; opts: {width, height, log,
  // xLabel, inspect (a step to mark, or null)}. Returns the number of steps left out because a
  // log axis cannot show an LR of 0.
  function draw(svg, series, opts) {
    const W = opts.width;
    const H = opts.height;
    const narrow = W < 480;
    const m = { left: narrow ? 60 : 66, right: 18, top: series.length > 1 ? 34 : 12, bottom: 44 };
    const pw = W - m.left - m.right;
    const ph = H - m.top - m.bottom;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    for (const node of Array.from(svg.childNodes)) if (node.nodeName !== "title" && node.nodeName !== "desc") svg.removeChild(node);

    const n = Math.max(1, ...series.map((s) => s.lrs.length));
    const values = series.flatMap((s) => s.lrs).filter((v) => (opts.log ? v > 0 : Number.isFinite(v)));
    let lo;
    let hi;
    if (opts.log) {
      const minPos = values.length ? least(values) : 1e-3;
      const maxPos = values.length ? most(values) : 1;
      lo = Math.pow(10, Math.floor(Math.log10(minPos) + 1e-9));
      hi = Math.pow(10, Math.ceil(Math.log10(maxPos) - 1e-9));
      if (hi <= lo) hi = lo * 10;
    } else {
      lo = Math.min(0, least(values));
      hi = values.length ? most(values) : 1;
      if (hi <= lo) hi = lo + (Math.abs(lo) || 1);
      hi = lo + (hi - lo) * 1.05;
    }
    const x = (t) => m.left + (t / n) * pw;
    const y = opts.log
      ? (v) => m.top + ph - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph
      : (v) => m.top + ph - ((v - lo) / (hi - lo)) * ph;

    const axes = el("g", { class: "lrx-axes" });
    for (const v of opts.log ? logTicks(lo, hi) : niceTicks(lo, hi, 5)) {
      const yy = y(v).toFixed(1);
      axes.appendChild(el("line", { class: "lrx-grid", x1: m.left, x2: m.left + pw, y1: yy, y2: yy }));
      axes.appendChild(el("text", { x: m.left - 6, y: yy, "text-anchor": "end", "dominant-baseline": "middle" }, formatNumber(v)));
    }
    for (const t of niceTicks(0, n, narrow ? 4 : 7).filter((t) => Number.isInteger(t))) {
      const xx = x(t).toFixed(1);
      axes.appendChild(el("line", { class: "lrx-tick", x1: xx, x2: xx, y1: m.top + ph, y2: m.top + ph + 5 }));
      axes.appendChild(el("text", { x: xx, y: m.top + ph + 18, "text-anchor": "middle" }, String(t)));
    }
    axes.appendChild(el("rect", { class: "lrx-frame", x: m.left, y: m.top, width: pw, height: ph }));
    axes.appendChild(el("text", { class: "lrx-axis-label", x: m.left + pw / 2, y: H - 6, "text-anchor": "middle" }, opts.xLabel));
    axes.appendChild(
      el("text", { class: "lrx-axis-label", x: 10, y: m.top + ph / 2, "text-anchor": "middle", "dominant-baseline": "middle", transform: `rotate(-90 10 ${m.top + ph / 2})` }, "learning rate")
    );
    svg.appendChild(axes);

    // With room for it, each step is a flat segment; with more steps than that, a line through
    // the middle of each step reads better and the flats would not show anyway.
    const stairs = pw / n >= 8;
    let hidden = 0;
    series.forEach((s, i) => {
      let d = "";
      let pen = false;
      s.lrs.forEach((v, t) => {
        if (!(opts.log ? v > 0 : Number.isFinite(v))) {
          pen = false;
          if (i === 0) hidden += 1;
          return;
        }
        const yy = y(v).toFixed(2);
        if (stairs) d += `${pen ? "L" : "M"}${x(t).toFixed(2)} ${yy}L${x(t + 1).toFixed(2)} ${yy}`;
        else d += `${pen ? "L" : "M"}${x(t + 0.5).toFixed(2)} ${yy}`;
        pen = true;
      });
      svg.appendChild(el("path", { class: `lrx-curve ${s.className}`, d: d || "M0 0" }));
      if (series.length > 1) {
        const lx = m.left + 8 + i * Math.min(190, pw / 2);
        const g = el("g", { class: `lrx-legend ${s.className}` });
        g.appendChild(el("line", { class: "lrx-curve", x1: lx, x2: lx + 26, y1: 14, y2: 14 }));
        g.appendChild(marker(s.marker, lx + 13, 14));
        g.appendChild(el("text", { x: lx + 32, y: 14, "dominant-baseline": "middle" }, s.label));
        svg.appendChild(g);
      }
    });

    if (opts.inspect !== null && opts.inspect < n) {
      const t = opts.inspect;
      const xx = x(t + 0.5);
      svg.appendChild(el("line", { class: "lrx-cursor", x1: xx, x2: xx, y1: m.top, y2: m.top + ph }));
      series.forEach((s) => {
        const v = s.lrs[t];
        if (v !== undefined && (opts.log ? v > 0 : Number.isFinite(v))) {
          const g = el("g", { class: `lrx-mark ${s.className}` });
          g.appendChild(marker(s.marker, xx, y(v)));
          svg.appendChild(g);
        }
      });
    }
    return hidden;
  }

  function marker(shape, cx, cy) {
    return shape === "square"
      ? el("rect", { class: "lrx-marker", x: cx - 4.5, y: cy - 4.5, width: 9, height: 9 })
      : el("circle", { class: "lrx-marker", cx: cx, cy: cy, r: 5 });
  }

  window.LRPlot = { draw: draw, formatNumber: formatNumber };
})();
