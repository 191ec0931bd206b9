/* The schedule explorer: controls, curve, readout and code, wired together.
 *
 * Runs only where the page has <div id="lr-explorer">, so loading it elsewhere is harmless.
 * The maths is in schedules.js, the code text in pycode.js, the drawing in plot.js. Every
 * control is a labelled native form element (sliders move with the arrow keys, Page Up/Down,
 * Home/End), so the whole explorer works from the keyboard and with a screen reader; the
 * curve's summary and the readout of the inspected step are announced as text.
 */
(function () {
  "use strict";

  const S = window.LRSchedules;
  const C = window.LRCode;
  const P = window.LRPlot;
  const MAX_STEPS = 20000;

  function h(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children || []) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    return node;
  }

  function decimals(step) {
    const s = String(step);
    return s.includes(".") ? s.split(".")[1].length : 0;
  }

  // A slider and a number field that show one value; `onValue` gets the parsed number.
  // Log sliders move in tenths of a decade, and round to three significant digits.
  function numberControl(id, labelNode, spec, value, sliderMax, onValue, help) {
    const log = !!spec.log;
    const stepSize = spec.stepSize || (spec.kind === "int" ? 1 : 0.01);
    const toSlider = (v) => (log ? Math.log10(Math.max(v, spec.lo)) : v);
    const fromSlider = (s) =>
      log ? Number(Math.pow(10, s).toPrecision(3)) : spec.kind === "int" ? Math.round(s) : Number(s.toFixed(decimals(stepSize)));
    const wrap = h("div", { class: "lrx-field lrx-number" });
    const label = h("label", { for: `${id}-num`, id: `${id}-label` }, [labelNode]);
    const slider = h("input", {
      type: "range",
      id: `${id}-range`,
      "aria-labelledby": `${id}-label`,
      min: log ? Math.log10(spec.lo) : spec.lo,
      max: log ? Math.log10(spec.hi) : sliderMax,
      step: log ? 0.1 : stepSize,
      "data-param": spec.name,
    });
    const field = h("input", {
      type: "number",
      id: `${id}-num`,
      step: spec.kind === "int" ? 1 : "any",
      min: spec.min,
      "aria-describedby": help ? `${id}-help` : null,
      "data-param": spec.name,
    });
    slider.value = String(toSlider(value));
    field.value = String(value);
    slider.addEventListener("input", () => {
      const v = fromSlider(Number(slider.value));
      field.value = String(v);
      onValue(v);
    });
    field.addEventListener("input", () => {
      const v = field.value.trim() === "" ? NaN : Number(field.value);
      if (Number.isFinite(v)) slider.value = String(toSlider(v));
      onValue(v);
    });
    wrap.append(label, h("div", { class: "lrx-pair" }, [slider, field]));
    if (help) wrap.appendChild(h("p", { class: "lrx-help", id: `${id}-help`, text: help }));
    return wrap;
  }

  function code(text) {
    return h("code", { text: text });
  }

  function init(root) {
    const state = {
      key: "CosineAnnealingLR",
      args: {}, // per schedule, so switching back keeps what the reader set
      baseLr: 0.1,
      n: 100,
      unit: "step",
      log: false,
      inspect: 0,
      pinned: null,
    };
    for (const s of S.SCHEDULES) {
      state.args[s.key] = {};
      for (const spec of s.params) state.args[s.key][spec.name] = Array.isArray(spec.def) ? spec.def.slice() : spec.def;
    }

    // -- static skeleton
    const select = h("select", { id: "lrx-schedule" });
    for (const lib of ["torch", "lrcourse"]) {
      const group = h("optgroup", { label: lib === "torch" ? "torch.optim.lr_scheduler" : "lrcourse" });
      for (const s of S.SCHEDULES.filter((s) => s.library === lib)) group.appendChild(h("option", { value: s.key, text: s.title || s.key }));
      select.appendChild(group);
    }
    select.value = state.key;
    const summaryLine = h("p", { class: "lrx-help", id: "lrx-schedule-help" });
    select.setAttribute("aria-describedby", "lrx-schedule-help");

    const params = h("fieldset", { class: "lrx-params" });
    const run = h("fieldset", { class: "lrx-run" }, [h("legend", { text: "Run" })]);
    const baseSpec = { name: "lr", kind: "float", log: true, lo: 1e-5, hi: 1 };
    const baseCtl = numberControl("lrx-base", code("lr"), baseSpec, state.baseLr, 1, (v) => {
      state.baseLr = v;
      update();
    }, "The optimizer's learning rate, the base LR of the schedule.");
    const nSpec = { name: "steps", kind: "int", lo: 1, hi: 1000, min: 1 };
    const nLabel = h("span", { text: "Steps shown" });
    const nCtl = numberControl("lrx-n", nLabel, nSpec, state.n, 1000, (v) => {
      state.n = v;
      rebuildParams();
      update();
    });
    const radios = (name, legend, options, current, onChange) => {
      const fs = h("fieldset", { class: "lrx-radios" }, [h("legend", { text: legend })]);
      for (const [value, text] of options) {
        const input = h("input", { type: "radio", name: name, id: `lrx-${name}-${value}`, value: value, checked: value === current });
        input.addEventListener("change", () => input.checked && onChange(value));
        fs.appendChild(h("span", { class: "lrx-radio" }, [input, h("label", { for: input.id, text: text })]));
      }
      return fs;
    };
    const unitCtl = radios("unit", "scheduler.step() is called", [["step", "every batch"], ["epoch", "every epoch"]], state.unit, (v) => {
      state.unit = v;
      nLabel.textContent = v === "epoch" ? "Epochs shown" : "Steps shown";
      update();
    });
    const axisCtl = radios("axis", "LR axis", [["linear", "linear"], ["log", "log"]], "linear", (v) => {
      state.log = v === "log";
      update();
    });
    run.append(baseCtl, nCtl, unitCtl, axisCtl);

    const message = h("p", { class: "lrx-message", id: "lrx-message", role: "status" });
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-labelledby", "lrx-plot-title");
    svg.setAttribute("class", "lrx-svg");
    const svgTitle = document.createElementNS("http://www.w3.org/2000/svg", "title");
    svgTitle.id = "lrx-plot-title";
    svg.appendChild(svgTitle);
    const summary = h("p", { class: "lrx-summary", id: "lrx-summary", "aria-live": "polite" });
    const figure = h("figure", { class: "lrx-figure" }, [svg, h("figcaption", {}, [summary])]);

    const inspectSpec = { name: "inspect", kind: "int", lo: 0, hi: 99, min: 0 };
    const readout = h("output", { id: "lrx-readout", for: "lrx-inspect-num", class: "lrx-readout" });
    const inspectLabel = h("span", { text: "Read the LR at step" });
    let inspectCtl = null;
    const inspectHolder = h("div", { class: "lrx-inspect" });

    const pin = h("button", { type: "button", class: "lrx-button", id: "lrx-pin", text: "Keep this curve to compare" });
    const unpin = h("button", { type: "button", class: "lrx-button", id: "lrx-unpin", text: "Clear comparison", disabled: true });
    const buttons = h("div", { class: "lrx-buttons" }, [pin, unpin]);

    const codeEl = h("code", { id: "lrx-code", class: "language-python" });
    const copy = h("button", { type: "button", class: "lrx-button", id: "lrx-copy", text: "Copy code" });
    const copied = h("span", { class: "lrx-copied", role: "status", id: "lrx-copied" });
    const codeBox = h("div", { class: "lrx-code" }, [
      h("div", { class: "lrx-code-head" }, [h("h3", { id: "lrx-code-title", text: "The PyTorch code" }), copy, copied]),
      // focusable, so the keyboard can scroll a line wider than the screen
      h("pre", { tabindex: 0, id: "lrx-code-box", "aria-labelledby": "lrx-code-title" }, [codeEl]),
    ]);

    root.replaceChildren(
      h("div", { class: "lrx-controls" }, [
        h("div", { class: "lrx-field lrx-choose" }, [h("label", { for: "lrx-schedule", text: "Schedule" }), select, summaryLine]),
        params,
        run,
      ]),
      message,
      figure,
      inspectHolder,
      buttons,
      codeBox
    );

    function current() {
      return S.schedule(state.key);
    }

    function rebuildParams() {
      const s = current();
      const args = state.args[s.key];
      params.replaceChildren(h("legend", {}, ["Parameters of ", code(s.pyName || s.key)]));
      for (const spec of s.params) {
        const id = `lrx-p-${spec.name}`;
        const setter = (v) => {
          args[spec.name] = v;
          if (spec.name === "mode") rebuildParams();
          update();
        };
        let ctl;
        if (spec.kind === "int" || spec.kind === "float") {
          const max = spec.countsSteps ? Math.max(state.n, args[spec.name] || 0, 1) : spec.hi;
          ctl = numberControl(id, code(spec.name), spec, args[spec.name], max, setter, spec.help);
        } else if (spec.kind === "choice") {
          const sel = h("select", { id: id, "data-param": spec.name });
          for (const c of spec.choices) sel.appendChild(h("option", { value: c, text: c }));
          sel.value = args[spec.name];
          sel.addEventListener("change", () => setter(sel.value));
          ctl = h("div", { class: "lrx-field" }, [h("label", { for: id }, [code(spec.name)]), sel]);
        } else if (spec.kind === "bool") {
          const box = h("input", { type: "checkbox", id: id, checked: args[spec.name], "data-param": spec.name });
          box.addEventListener("change", () => setter(box.checked));
          ctl = h("div", { class: "lrx-field lrx-check" }, [box, h("label", { for: id }, [code(spec.name)])]);
        } else {
          const text = h("input", { type: "text", id: id, inputmode: "numeric", "aria-describedby": `${id}-help`, "data-param": spec.name });
          text.value = args[spec.name].join(", ");
          text.addEventListener("input", () => {
            const parts = text.value.split(",").map((x) => x.trim()).filter((x) => x !== "");
            setter(parts.map((x) => (/^\d+$/.test(x) ? Number(x) : NaN)));
          });
          ctl = h("div", { class: "lrx-field" }, [
            h("label", { for: id }, [code(spec.name)]),
            text,
            h("p", { class: "lrx-help", id: `${id}-help`, text: "Steps, separated by commas" }),
          ]);
        }
        if (spec.onlyIf && !spec.onlyIf(args)) ctl.hidden = true;
        params.appendChild(ctl);
      }
      summaryLine.textContent = s.summary;
      const baseFields = baseCtl.querySelectorAll("input");
      baseFields.forEach((f) => (f.disabled = !!s.ownsLr));
      baseCtl.querySelector(".lrx-help").textContent = s.ownsLr
        ? `${s.key} sets the optimizer's LR itself; this value is not used.`
        : "The optimizer's learning rate, the base LR of the schedule.";
    }

    function rebuildInspect(n) {
      const unitName = state.unit === "epoch" ? "epoch" : "step";
      inspectLabel.textContent = `Read the LR at ${unitName}`;
      if (inspectCtl && Number(inspectCtl.querySelector("input[type=range]").max) === n - 1) return;
      state.inspect = Math.min(state.inspect, Math.max(0, n - 1));
      inspectCtl = numberControl("lrx-inspect", inspectLabel, Object.assign({}, inspectSpec), state.inspect, Math.max(0, n - 1), (v) => {
        state.inspect = Number.isInteger(v) && v >= 0 ? v : 0;
        draw();
      });
      inspectHolder.replaceChildren(inspectCtl, readout);
    }

    let lastLrs = [];
    let lastLabel = "";

    function draw() {
      const width = Math.max(280, Math.floor(figure.clientWidth || root.clientWidth || 640));
      const height = Math.round(Math.min(340, Math.max(230, width * 0.55)));
      const series = [{ lrs: lastLrs, className: "lrx-series-0", label: lastLabel, marker: "circle" }];
      if (state.pinned) series.push({ lrs: state.pinned.lrs, className: "lrx-series-1", label: state.pinned.label, marker: "square" });
      const unitName = state.unit === "epoch" ? "epoch" : "optimizer step";
      const hidden = P.draw(svg, series, { width: width, height: height, log: state.log, xLabel: unitName, inspect: lastLrs.length ? state.inspect : null });
      const t = state.inspect;
      const parts = [];
      if (t < lastLrs.length) parts.push(`${state.unit === "epoch" ? "epoch" : "step"} ${t}: lr = ${lastLrs[t]}`);
      if (state.pinned && t < state.pinned.lrs.length) parts.push(`kept curve: ${state.pinned.lrs[t]}`);
      readout.textContent = parts.join("; ");
      return hidden;
    }

    function update() {
      const s = current();
      const args = state.args[s.key];
      let n = state.n;
      let error = null;
      if (!(Number.isInteger(n) && n >= 1 && n <= MAX_STEPS)) {
        error = `Steps shown must be a whole number from 1 to ${MAX_STEPS} (got ${state.n})`;
        n = 0;
      }
      const result = error ? { lrs: [], error: error } : S.compute(s.key, args, n, state.baseLr);
      lastLrs = result.lrs;
      lastLabel = s.pyName || s.key;
      message.textContent = result.error ? (result.lrs.length ? `The loop below stops here: ${result.error}` : result.error) : "";
      message.classList.toggle("lrx-error", !!result.error);
      rebuildInspect(Math.max(1, lastLrs.length));
      const hidden = draw();
      const unitName = state.unit === "epoch" ? "epoch" : "step";
      svgTitle.textContent = `Learning rate of ${s.title || s.key} at each ${unitName}`;
      summary.textContent = describe(lastLrs, unitName, s, hidden);
      // Refused arguments have no code; an exception the loop would raise keeps it, since
      // running the code is how a reader sees that exception for real.
      codeEl.textContent = result.error && !result.lrs.length
        ? `# No code for these arguments:\n# ${result.error}\n`
        : C.fullCode(s, args, state.n, state.baseLr, state.unit);
    }

    function describe(lrs, unitName, s, hidden) {
      if (!lrs.length) return `${s.title || s.key}: no curve for these arguments.`;
      let iMax = 0;
      let iMin = 0;
      lrs.forEach((v, i) => {
        if (v > lrs[iMax]) iMax = i;
        if (v < lrs[iMin]) iMin = i;
      });
      const f = P.formatNumber;
      let text =
        `${s.title || s.key} over ${lrs.length} ${unitName}s: LR ${f(lrs[0])} at ${unitName} 0, ` +
        `highest ${f(lrs[iMax])} at ${unitName} ${iMax}, lowest ${f(lrs[iMin])} at ${unitName} ${iMin}, ` +
        `${f(lrs[lrs.length - 1])} at the last ${unitName}.`;
      if (hidden) text += ` ${hidden} ${unitName}s with LR 0 cannot be drawn on a log axis.`;
      return text;
    }

    select.addEventListener("change", () => {
      state.key = select.value;
      rebuildParams();
      update();
    });
    pin.addEventListener("click", () => {
      state.pinned = { lrs: lastLrs.slice(), label: `kept: ${lastLabel}` };
      unpin.disabled = false;
      draw();
    });
    unpin.addEventListener("click", () => {
      state.pinned = null;
      unpin.disabled = true;
      pin.focus();
      draw();
    });
    copy.addEventListener("click", () => {
      const text = codeEl.textContent;
      const done = (msg) => {
        copied.textContent = msg;
        setTimeout(() => (copied.textContent = ""), 4000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(() => done("Copied."), () => selectCode(done));
      } else {
        selectCode(done);
      }
    });
    function selectCode(done) {
      const range = document.createRange();
      range.selectNodeContents(codeEl);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      done("Selected: press Ctrl+C (⌘C) to copy.");
    }
    if (window.ResizeObserver) {
      let last = 0;
      new ResizeObserver(() => {
        const w = Math.floor(figure.clientWidth);
        if (w !== last) {
          last = w;
          draw();
        }
      }).observe(figure);
    }

    rebuildParams();
    update();
    return { state: state, lrs: () => lastLrs.slice(), update: update };
  }

  function start() {
    const root = document.getElementById("lr-explorer");
    if (!root) return;
    const api = init(root);
    window.LRExplorer = Object.assign({}, S, { code: C, lrs: api.lrs, state: api.state });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
