/* Learning-rate schedules of torch.optim.lr_scheduler and lrcourse, computed in the browser.
 *
 * Each schedule returns the LR that optimizer step 0, 1, ..., n-1 uses, exactly what
 * lrcourse.preview(make_scheduler, n, base_lr) records by stepping the real scheduler. So the
 * arithmetic here copies torch's and lrcourse's operation for operation, recursions included:
 * torch computes StepLR, ExponentialLR, LinearLR, PolynomialLR and CosineAnnealingLR by
 * multiplying the previous LR (get_lr), not from the closed form, and the two drift apart in the
 * last bits. Numbers are IEEE doubles in both languages, so only Math.cos/Math.pow may differ
 * from C's libm, by an ulp; tests/test_site_browser.py holds the two to 1e-12 relative.
 *
 * Exposes window.LRSchedules = {SCHEDULES, compute, validate}; explorer.js builds the page.
 */
(function () {
  "use strict";

  // A Python exception as torch or lrcourse would raise it; `lrs` holds the values recorded
  // before it, as a training loop would have used them.
  class ScheduleError extends Error {
    constructor(message, lrs) {
      super(message);
      this.lrs = lrs || [];
    }
  }

  function div(a, b) {
    // Python raises where JavaScript would quietly give Infinity or NaN.
    if (b === 0) throw new ScheduleError("ZeroDivisionError: float division by zero");
    return a / b;
  }

  // ---- Parameter specs ------------------------------------------------------------------
  // kind: int | float | choice | bool | list.  min/max: what the library accepts (checked);
  // lo/hi: the slider's range (the number field may go past it).  def: the value the page starts
  // with; pyDefault: the library's default (the code omits an argument equal to it; undefined
  // means the argument is required).  log: the slider moves in powers of ten.
  const p = (name, kind, o) => Object.assign({ name: name, kind: kind }, o);
  // A length in steps: its slider reaches the number of steps shown.
  const steps = (name, def, o) => p(name, "int", Object.assign({ min: 0, lo: 0, hi: 500, def: def, countsSteps: true }, o));

  // ---- torch.optim.lr_scheduler ---------------------------------------------------------

  function stepLR(a, n, base) {
    const lrs = [];
    let lr = base;
    for (let t = 0; t < n; t++) {
      // get_lr: unchanged at 0 and between multiples of step_size, else times gamma
      if (!(t === 0 || t % a.step_size !== 0)) lr = lr * a.gamma;
      lrs.push(lr);
    }
    return lrs;
  }

  function multiStepLR(a, n, base) {
    const counts = new Map();
    for (const m of a.milestones) counts.set(m, (counts.get(m) || 0) + 1);
    const lrs = [];
    let lr = base;
    for (let t = 0; t < n; t++) {
      // a milestone listed k times multiplies by gamma ** k (torch keeps a Counter)
      if (counts.has(t)) lr = lr * Math.pow(a.gamma, counts.get(t));
      lrs.push(lr);
    }
    return lrs;
  }

  function constantLR(a, n, base) {
    const lrs = [];
    let lr = base;
    for (let t = 0; t < n; t++) {
      if (t === 0) lr = lr * a.factor;
      else if (t === a.total_iters) lr = lr * div(1.0, a.factor);
      lrs.push(lr);
    }
    return lrs;
  }

  function linearRecursion(lr, t, start, end, total) {
    // LinearLR.get_lr for last_epoch = t >= 1
    if (t > total) return lr;
    return lr * (1.0 + div(end - start, total * start + (t - 1) * (end - start)));
  }

  function linearLR(a, n, base) {
    const lrs = [];
    let lr = base;
    for (let t = 0; t < n; t++) {
      lr = t === 0 ? lr * a.start_factor : linearRecursion(lr, t, a.start_factor, a.end_factor, a.total_iters);
      lrs.push(lr);
    }
    return lrs;
  }

  function exponentialLR(a, n, base) {
    const lrs = [];
    let lr = base;
    for (let t = 0; t < n; t++) {
      if (t > 0) lr = lr * a.gamma;
      lrs.push(lr);
    }
    return lrs;
  }

  function polynomialLR(a, n, base) {
    const lrs = [];
    let lr = base;
    const T = a.total_iters;
    for (let t = 0; t < n; t++) {
      if (t > 0 && t <= T) {
        const decay = Math.pow(div(1.0 - t / T, 1.0 - (t - 1) / T), a.power);
        lr = lr * decay;
      }
      lrs.push(lr);
    }
    return lrs;
  }

  function cosineRecursion(lr, t, base, etaMin, T) {
    // CosineAnnealingLR.get_lr for last_epoch = t >= 1 (after the constructor's step)
    if ((t - 1 - T) % (2 * T) === 0) {
      return lr + ((base - etaMin) * (1 - Math.cos(Math.PI / T))) / 2;
    }
    return (
      ((1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T))) * (lr - etaMin) + etaMin
    );
  }

  function cosineAnnealingLR(a, n, base) {
    const lrs = [];
    let lr = base;
    for (let t = 0; t < n; t++) {
      if (t > 0) lr = cosineRecursion(lr, t, base, a.eta_min, a.T_max);
      lrs.push(lr);
    }
    return lrs;
  }

  function cosineWarmRestarts(a, n, base) {
    const lrs = [];
    let tCur = 0;
    let tI = a.T_0;
    for (let t = 0; t < n; t++) {
      if (t > 0) {
        tCur = tCur + 1;
        if (tCur >= tI) {
          tCur = tCur % tI;
          tI = tI * a.T_mult;
        }
      }
      lrs.push(a.eta_min + ((base - a.eta_min) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2);
    }
    return lrs;
  }

  function cyclicLR(a, n) {
    const up = a.step_size_up;
    const down = a.step_size_down;
    const total = up + down;
    const ratio = up / total;
    const lrs = [];
    for (let t = 0; t < n; t++) {
      const cycle = Math.floor(1 + t / total);
      const x = 1.0 + t / total - cycle;
      const scaleFactor = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
      const height = (a.max_lr - a.base_lr) * scaleFactor;
      let scale;
      if (a.mode === "triangular") scale = 1.0;
      else if (a.mode === "triangular2") scale = 1 / Math.pow(2.0, cycle - 1);
      else scale = Math.pow(a.gamma, t); // exp_range is scaled per iteration
      lrs.push(a.base_lr + height * scale);
    }
    return lrs;
  }

  function oneCycleLR(a, n) {
    const T = a.total_steps;
    const initial = a.max_lr / a.div_factor;
    const minLr = initial / a.final_div_factor;
    const phases = a.three_phase
      ? [
          [a.pct_start * T - 1, initial, a.max_lr],
          [2 * a.pct_start * T - 2, a.max_lr, initial],
          [T - 1, initial, minLr],
        ]
      : [
          [a.pct_start * T - 1, initial, a.max_lr],
          [T - 1, a.max_lr, minLr],
        ];
    const anneal =
      a.anneal_strategy === "cos"
        ? (start, end, pct) => end + ((start - end) / 2.0) * (Math.cos(Math.PI * pct) + 1)
        : (start, end, pct) => (end - start) * pct + start;
    const lrs = [];
    // preview steps the scheduler after each recorded step; the call that takes last_epoch
    // past total_steps raises, so at most total_steps + 1 LRs exist.
    for (let t = 0; t < Math.min(n, T + 1); t++) {
      let startStep = 0.0;
      for (let i = 0; i < phases.length; i++) {
        const endStep = phases[i][0];
        if (t <= endStep || i === phases.length - 1) {
          const pct = div(t - startStep, endStep - startStep);
          lrs.push(anneal(phases[i][1], phases[i][2], pct));
          break;
        }
        startStep = endStep;
      }
    }
    if (n > T) {
      throw new ScheduleError(
        `ValueError: Tried to step ${T + 1} times. The specified number of total steps is ${T}`,
        lrs
      );
    }
    return lrs;
  }

  function warmupCosineSequential(a, n, base) {
    // SequentialLR([LinearLR(start_factor, total_iters=W), CosineAnnealingLR(T_max)], [W]):
    // the constructor resets the LR and replays LinearLR's first step; at the milestone the
    // cosine restarts from its closed form at 0, then steps recursively.
    const W = a.warmup_steps;
    const T = a.T_max;
    const lrs = [];
    let lr = base;
    for (let t = 0; t < n; t++) {
      if (t === 0) lr = base * a.start_factor;
      else if (t < W) lr = linearRecursion(lr, t, a.start_factor, 1.0, W);
      else if (t === W) lr = a.eta_min + ((base - a.eta_min) * (1 + Math.cos((Math.PI * 0) / T))) / 2;
      else lr = cosineRecursion(lr, t - W, base, a.eta_min, T);
      lrs.push(lr);
    }
    return lrs;
  }

  // ---- lrcourse (lrcourse/schedules.py): base_lr * factor(step) -------------------------

  const rampFromZero = (t, W) => t / Math.max(1, W);

  const factors = {
    WarmupLR: (t, a) => (t < a.warmup_steps ? (t + 1) / a.warmup_steps : Math.exp(-a.gamma * (t - a.warmup_steps + 1))),
    warmup_constant: (t, a) => (t < a.warmup_steps ? t / Math.max(1.0, a.warmup_steps) : 1.0),
    warmup_linear: (t, a) =>
      t < a.warmup_steps
        ? rampFromZero(t, a.warmup_steps)
        : Math.max(0.0, (a.total_steps - t) / Math.max(1, a.total_steps - a.warmup_steps)),
    warmup_cosine: (t, a) => {
      if (t < a.warmup_steps) return rampFromZero(t, a.warmup_steps);
      const progress = (t - a.warmup_steps) / Math.max(1, a.total_steps - a.warmup_steps);
      const cosine = 0.5 * (1.0 + Math.cos(Math.PI * a.num_cycles * 2.0 * progress));
      return Math.max(0.0, cosine * (1 - a.min_lr_ratio) + a.min_lr_ratio);
    },
    warmup_poly: (t, a, base) => {
      if (t < a.warmup_steps) return rampFromZero(t, a.warmup_steps);
      if (t >= a.total_steps) return a.lr_end / base;
      const pctRemaining = 1 - (t - a.warmup_steps) / (a.total_steps - a.warmup_steps);
      return ((base - a.lr_end) * Math.pow(pctRemaining, a.power) + a.lr_end) / base;
    },
    inverse_sqrt: (t, a) => {
      const timescale = a.timescale || a.warmup_steps || 10000;
      if (t < a.warmup_steps) return rampFromZero(t, a.warmup_steps);
      return 1.0 / Math.sqrt((t + (timescale - a.warmup_steps)) / timescale);
    },
    inverse_sqrt_vaswani: (t, a) => {
      const s = t + 1;
      return Math.pow(a.d_model, -0.5) * Math.min(Math.pow(s, -0.5), s * Math.pow(a.warmup_steps, -1.5));
    },
    wsd: (t, a) => {
      const W = a.warmup_steps;
      const S = a.stable_steps;
      const D = a.decay_steps;
      const m = a.min_lr_ratio;
      if (t < W) return Math.max(0.0, (t / Math.max(1, W)) * (1.0 - m) + m);
      if (t < W + S) return 1.0;
      if (t < W + S + D) {
        const progress = (t - W - S) / Math.max(1, D);
        let shape;
        if (a.decay === "linear") shape = 1.0 - progress;
        else if (a.decay === "cosine") shape = 0.5 * (1.0 + Math.cos(Math.PI * progress));
        else shape = 1.0 - Math.sqrt(progress);
        return Math.max(0.0, shape * (1.0 - m) + m);
      }
      return m;
    },
  };

  function closedForm(key) {
    return (a, n, base) => {
      const lrs = [];
      for (let t = 0; t < n; t++) lrs.push(base * factors[key](t, a, base));
      return lrs;
    };
  }

  // ---- The catalogue --------------------------------------------------------------------
  // python(a): the statements that bind `scheduler` given `optimizer` (explorer.js adds the
  // rest of the code). check(a, base): extra constraints across parameters, as messages.

  const gammaDecay = p("gamma", "float", { min: 0, lo: 0.01, hi: 1, stepSize: 0.01, def: 0.1, pyDefault: 0.1 });
  const etaMin = p("eta_min", "float", { min: 0, lo: 0, hi: 0.1, stepSize: 0.001, def: 0, pyDefault: 0.0 });

  const SCHEDULES = [
    {
      key: "StepLR", library: "torch", run: stepLR,
      summary: "Multiply the LR by gamma every step_size steps.",
      params: [steps("step_size", 30, { min: 1, lo: 1 }), gammaDecay],
    },
    {
      key: "MultiStepLR", library: "torch", run: multiStepLR,
      summary: "Multiply the LR by gamma at each milestone.",
      params: [p("milestones", "list", { def: [30, 80] }), gammaDecay],
    },
    {
      key: "ConstantLR", library: "torch", run: constantLR,
      summary: "Hold the LR at factor × base LR for total_iters steps, then the base LR.",
      params: [
        p("factor", "float", { min: 0, max: 1, lo: 0.01, hi: 1, stepSize: 0.01, def: 0.5, pyDefault: 1.0 / 3 }),
        steps("total_iters", 20, { pyDefault: 5 }),
      ],
      check: (a) => (a.factor === 0 && a.total_iters > 0 ? ["factor=0 makes torch divide by zero at step total_iters (ZeroDivisionError)"] : []),
    },
    {
      key: "LinearLR", library: "torch", run: linearLR,
      summary: "Move the multiplier linearly from start_factor to end_factor over total_iters steps.",
      params: [
        p("start_factor", "float", { min: 0, minOpen: true, max: 1, lo: 0.01, hi: 1, stepSize: 0.01, def: 0.1, pyDefault: 1.0 / 3 }),
        p("end_factor", "float", { min: 0, max: 1, lo: 0, hi: 1, stepSize: 0.01, def: 1.0, pyDefault: 1.0 }),
        steps("total_iters", 20, { pyDefault: 5 }),
      ],
    },
    {
      key: "ExponentialLR", library: "torch", run: exponentialLR,
      summary: "Multiply the LR by gamma at every step.",
      params: [p("gamma", "float", { min: 0, lo: 0.8, hi: 1, stepSize: 0.001, def: 0.97 })],
    },
    {
      key: "PolynomialLR", library: "torch", run: polynomialLR,
      summary: "Decay as (1 - t/total_iters) ** power, then hold.",
      params: [
        steps("total_iters", 100, { min: 1, lo: 1, pyDefault: 5 }),
        p("power", "float", { min: 0, lo: 0.1, hi: 5, stepSize: 0.1, def: 2.0, pyDefault: 1.0 }),
      ],
    },
    {
      key: "CosineAnnealingLR", library: "torch", run: cosineAnnealingLR,
      summary: "Half a cosine from the base LR to eta_min over T_max steps (it climbs back after).",
      params: [steps("T_max", 100, { min: 1, lo: 1 }), etaMin],
    },
    {
      key: "CosineAnnealingWarmRestarts", library: "torch", run: cosineWarmRestarts,
      summary: "Cosine annealing that restarts at the base LR; each cycle is T_mult times longer.",
      params: [
        steps("T_0", 20, { min: 1, lo: 1 }),
        p("T_mult", "int", { min: 1, lo: 1, hi: 4, def: 2, pyDefault: 1 }),
        etaMin,
      ],
    },
    {
      key: "CyclicLR", library: "torch", run: cyclicLR, ownsLr: true,
      summary: "Triangles between base_lr and max_lr (it sets the optimizer's LR itself).",
      params: [
        p("base_lr", "float", { min: 0, minOpen: true, log: true, lo: 1e-5, hi: 1, def: 0.001 }),
        p("max_lr", "float", { min: 0, minOpen: true, log: true, lo: 1e-5, hi: 1, def: 0.1 }),
        steps("step_size_up", 20, { min: 1, lo: 1, hi: 200, pyDefault: 2000 }),
        steps("step_size_down", 20, { min: 1, lo: 1, hi: 200, pyDefault: null }),
        p("mode", "choice", { choices: ["triangular", "triangular2", "exp_range"], def: "triangular", pyDefault: "triangular" }),
        p("gamma", "float", { min: 0, max: 1, lo: 0.9, hi: 1, stepSize: 0.001, def: 0.99, pyDefault: 1.0, onlyIf: (a) => a.mode === "exp_range" }),
      ],
      omit: (a, name) => (name === "step_size_down" && a.step_size_down === a.step_size_up) || (name === "gamma" && a.mode !== "exp_range"),
    },
    {
      key: "OneCycleLR", library: "torch", run: oneCycleLR, ownsLr: true, lengthParam: "total_steps",
      summary: "Warm up to max_lr, then anneal far below the start: the 1cycle policy.",
      params: [
        p("max_lr", "float", { min: 0, minOpen: true, log: true, lo: 1e-5, hi: 1, def: 0.1 }),
        steps("total_steps", 100, { min: 1, lo: 1 }),
        p("pct_start", "float", { min: 0, max: 1, lo: 0, hi: 1, stepSize: 0.01, def: 0.3, pyDefault: 0.3 }),
        p("anneal_strategy", "choice", { choices: ["cos", "linear"], def: "cos", pyDefault: "cos" }),
        p("div_factor", "float", { min: 0, minOpen: true, log: true, lo: 1, hi: 1000, def: 25.0, pyDefault: 25.0 }),
        p("final_div_factor", "float", { min: 0, minOpen: true, log: true, lo: 1, hi: 1e6, def: 1e4, pyDefault: 1e4 }),
        p("three_phase", "bool", { def: false, pyDefault: false }),
      ],
    },
    {
      key: "SequentialLR", library: "torch", run: warmupCosineSequential,
      title: "SequentialLR: LinearLR warmup, then CosineAnnealingLR",
      summary: "LinearLR for warmup_steps, then CosineAnnealingLR for T_max steps.",
      params: [
        steps("warmup_steps", 10, { min: 1, lo: 1, hi: 200 }),
        p("start_factor", "float", { min: 0, minOpen: true, max: 1, lo: 0.01, hi: 1, stepSize: 0.01, def: 0.01 }),
        steps("T_max", 90, { min: 1, lo: 1 }),
        etaMin,
      ],
    },
    {
      key: "WarmupLR", library: "lrcourse", run: closedForm("WarmupLR"),
      summary: "Ramp (t + 1) / warmup_steps to the base LR, then exp(-gamma) per step.",
      params: [steps("warmup_steps", 10, { hi: 200 }), p("gamma", "float", { min: 0, lo: 0, hi: 0.2, stepSize: 0.001, def: 0.03 })],
    },
    {
      key: "warmup_constant", library: "lrcourse", run: closedForm("warmup_constant"),
      summary: "Ramp from 0 over warmup_steps, then the base LR (transformers' constant with warmup).",
      params: [steps("warmup_steps", 10, { hi: 200 })],
    },
    {
      key: "warmup_linear", library: "lrcourse", run: closedForm("warmup_linear"),
      summary: "Ramp from 0, then a straight line to 0 at total_steps.",
      params: [steps("warmup_steps", 10, { hi: 200 }), steps("total_steps", 100, { min: 1, lo: 1 })],
      check: (a) => warmupNotAfterTotal(a),
    },
    {
      key: "warmup_cosine", library: "lrcourse", run: closedForm("warmup_cosine"),
      summary: "Ramp from 0, then a cosine down to min_lr_ratio × base LR at total_steps.",
      params: [
        steps("warmup_steps", 10, { hi: 200 }),
        steps("total_steps", 100, { min: 1, lo: 1 }),
        p("num_cycles", "float", { min: 0, minOpen: true, lo: 0.05, hi: 3, stepSize: 0.05, def: 0.5, pyDefault: 0.5 }),
        p("min_lr_ratio", "float", { min: 0, max: 1, lo: 0, hi: 1, stepSize: 0.01, def: 0, pyDefault: 0.0 }),
      ],
      check: (a) => warmupNotAfterTotal(a),
    },
    {
      key: "warmup_poly", library: "lrcourse", run: closedForm("warmup_poly"),
      summary: "Ramp from 0, then (1 - progress) ** power down to the absolute LR lr_end.",
      params: [
        steps("warmup_steps", 10, { hi: 200 }),
        steps("total_steps", 100, { min: 1, lo: 1 }),
        p("lr_end", "float", { min: 0, log: true, lo: 1e-8, hi: 1, def: 1e-7, pyDefault: 1e-7 }),
        p("power", "float", { min: 0, minOpen: true, lo: 0.1, hi: 5, stepSize: 0.1, def: 1.0, pyDefault: 1.0 }),
      ],
      check: (a, base) =>
        warmupNotAfterTotal(a).concat(
          a.lr_end < base ? [] : [`lr_end must be < optimizer.defaults['lr'], the LR the decay starts from (got lr_end=${a.lr_end}, optimizer.defaults['lr']=${base})`]
        ),
    },
    {
      key: "inverse_sqrt", library: "lrcourse", run: closedForm("inverse_sqrt"),
      summary: "Ramp from 0, then base LR / sqrt((t - warmup_steps + timescale) / timescale).",
      params: [
        steps("warmup_steps", 10, { hi: 200 }),
        // 0 stands for None: lrcourse then uses warmup_steps (10 000 if that is 0)
        steps("timescale", 0, { hi: 200, pyDefault: 0, help: "0 means None: use warmup_steps" }),
      ],
    },
    {
      key: "inverse_sqrt_vaswani", library: "lrcourse", pyName: "inverse_sqrt", run: closedForm("inverse_sqrt_vaswani"),
      title: "inverse_sqrt with d_model (Vaswani et al. 2017)",
      summary: "d_model ** -0.5 × min(n ** -0.5, n × warmup_steps ** -1.5), n = t + 1; use base LR 1.0 for the paper's values.",
      params: [steps("warmup_steps", 40, { min: 1, lo: 1, hi: 200 }), p("d_model", "int", { min: 1, lo: 16, hi: 1024, stepSize: 16, def: 512 })],
    },
    {
      key: "wsd", library: "lrcourse", run: closedForm("wsd"),
      summary: "Warmup from min_lr_ratio, a stable phase at the base LR, then a decay (WSD).",
      params: [
        steps("warmup_steps", 10, { hi: 200 }),
        steps("stable_steps", 60, {}),
        steps("decay_steps", 30, {}),
        p("decay", "choice", { choices: ["linear", "cosine", "1-sqrt"], def: "linear", pyDefault: "linear" }),
        p("min_lr_ratio", "float", { min: 0, max: 1, lo: 0, hi: 1, stepSize: 0.01, def: 0, pyDefault: 0.0 }),
      ],
    },
  ];

  function warmupNotAfterTotal(a) {
    return a.warmup_steps <= a.total_steps
      ? []
      : [`warmup_steps must be <= total_steps (got warmup_steps=${a.warmup_steps}, total_steps=${a.total_steps})`];
  }

  const BY_KEY = new Map(SCHEDULES.map((s) => [s.key, s]));

  function schedule(key) {
    const s = BY_KEY.get(key);
    if (!s) throw new Error(`unknown schedule ${key}`);
    return s;
  }

  // Messages in lrcourse's style: the parameter, the value, what would be valid.
  function validate(key, args, baseLr) {
    const s = schedule(key);
    const problems = [];
    for (const spec of s.params) {
      const v = args[spec.name];
      if (spec.kind === "int" || spec.kind === "float") {
        if (typeof v !== "number" || !Number.isFinite(v)) {
          problems.push(`${spec.name} must be a number (got ${v})`);
          continue;
        }
        if (spec.kind === "int" && !Number.isInteger(v)) problems.push(`${spec.name} must be an integer (got ${spec.name}=${v})`);
        if (spec.min !== undefined && (spec.minOpen ? v <= spec.min : v < spec.min)) {
          problems.push(`${spec.name} must be ${spec.minOpen ? ">" : ">="} ${spec.min} (got ${spec.name}=${v})`);
        }
        if (spec.max !== undefined && v > spec.max) problems.push(`${spec.name} must be <= ${spec.max} (got ${spec.name}=${v})`);
      } else if (spec.kind === "list") {
        if (!Array.isArray(v) || v.some((m) => !Number.isInteger(m) || m < 0)) {
          problems.push(`${spec.name} must be a comma-separated list of steps >= 0 (got ${v})`);
        } else if (v.some((m, i) => i > 0 && m < v[i - 1])) {
          problems.push(`${spec.name} must be increasing (got ${spec.name}=[${v.join(", ")}])`);
        }
      } else if (spec.kind === "choice" && !spec.choices.includes(v)) {
        problems.push(`${spec.name} must be one of ${spec.choices.join(", ")} (got ${v})`);
      }
    }
    if (!(typeof baseLr === "number" && baseLr > 0 && Number.isFinite(baseLr))) {
      problems.push(`the optimizer's lr must be a number > 0 (got lr=${baseLr})`);
    }
    if (!problems.length && s.check) problems.push(...s.check(args, baseLr));
    return problems;
  }

  // {lrs, error}: lrs[t] is the LR of optimizer step t, for t < n; error is the exception the
  // library raises (lrs then holds the values before it) or the reason the arguments are refused.
  function compute(key, args, n, baseLr) {
    const problems = validate(key, args, baseLr);
    if (problems.length) return { lrs: [], error: problems.join("; ") };
    try {
      return { lrs: schedule(key).run(args, n, baseLr), error: null };
    } catch (e) {
      if (e instanceof ScheduleError) return { lrs: e.lrs, error: e.message };
      throw e;
    }
  }

  window.LRSchedules = { SCHEDULES: SCHEDULES, schedule: schedule, compute: compute, validate: validate };
})();
