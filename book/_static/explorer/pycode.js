/* The PyTorch code that builds the schedule shown in the explorer.
 *
 * The code is meant to be copied into a script and run as it is: a stand-in model, the optimizer,
 * the scheduler, and a loop that steps it in the right order and at the right rate. Numbers are
 * written so that Python reads back the very double the page computed with (shortest round-trip
 * form, floats always with a decimal point: OneCycleLR refuses an int pct_start).
 *
 * Exposes window.LRCode = {schedulerCode, fullCode, pyValue}.
 */
(function () {
  "use strict";

  function pyFloat(x) {
    if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
    return String(x); // shortest round-trip; "1e-7" is valid Python
  }

  function pyValue(spec, v) {
    switch (spec.kind) {
      case "int":
        return String(v);
      case "float":
        return pyFloat(v);
      case "bool":
        return v ? "True" : "False";
      case "choice":
        return JSON.stringify(v);
      case "list":
        return "[" + v.join(", ") + "]";
      default:
        throw new Error(`no Python form for ${spec.kind}`);
    }
  }

  // Keyword arguments, leaving out those equal to the library's default.
  function kwargs(s, args) {
    const parts = [];
    for (const spec of s.params) {
      const v = args[spec.name];
      if (s.omit && s.omit(args, spec.name)) continue;
      if (spec.pyDefault !== undefined && v === spec.pyDefault) continue;
      parts.push(`${spec.name}=${pyValue(spec, v)}`);
    }
    return parts;
  }

  function call(name, parts) {
    return `${name}(${["optimizer"].concat(parts).join(", ")})`;
  }

  // {imports, build}: the import lines, and the statements that bind `scheduler` to a new
  // scheduler of `optimizer`.
  function schedulerCode(s, args) {
    if (s.key === "SequentialLR") {
      const floatSpec = { kind: "float" };
      const warm = [`start_factor=${pyValue(floatSpec, args.start_factor)}`, `total_iters=${args.warmup_steps}`];
      const cos = [`T_max=${args.T_max}`];
      if (args.eta_min !== 0) cos.push(`eta_min=${pyValue(floatSpec, args.eta_min)}`);
      return {
        imports: ["from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR"],
        build: [
          `warmup = ${call("LinearLR", warm)}`,
          `cosine = ${call("CosineAnnealingLR", cos)}`,
          `scheduler = SequentialLR(optimizer, schedulers=[warmup, cosine], milestones=[${args.warmup_steps}])`,
        ],
      };
    }
    const name = s.pyName || s.key;
    const from = s.library === "torch" ? "torch.optim.lr_scheduler" : "lrcourse";
    return { imports: [`from ${from} import ${name}`], build: [`scheduler = ${call(name, kwargs(s, args))}`] };
  }

  // The whole script. unit: "step" (scheduler stepped after every optimizer step) or "epoch".
  function fullCode(s, args, n, baseLr, unit) {
    const sc = schedulerCode(s, args);
    const lines = ["import torch"].concat(sc.imports, [
      "",
      "model = torch.nn.Linear(10, 1)  # stands in for your model",
      `optimizer = torch.optim.SGD(model.parameters(), lr=${pyFloat(baseLr)}, momentum=0.9)`,
    ]);
    if (s.ownsLr) lines.push(`# ${s.key} sets the optimizer's LR itself: lr above is overwritten.`);
    lines.push(...sc.build, "");
    const train = [
      "loss = model(torch.randn(32, 10)).pow(2).mean()",
      "loss.backward()",
      "optimizer.step()",
      "optimizer.zero_grad()",
    ];
    if (unit === "epoch") {
      lines.push(`for epoch in range(${n}):`, "    for batch in range(10):  # stands for: for batch in loader");
      lines.push(...train.map((l) => "        " + l));
      lines.push("    scheduler.step()  # once per epoch: the schedule counts epochs");
    } else {
      lines.push(`for step in range(${n}):  # one batch per step`);
      lines.push(...train.map((l) => "    " + l));
      lines.push("    scheduler.step()  # after optimizer.step(), once per batch");
    }
    return lines.join("\n") + "\n";
  }

  window.LRCode = { schedulerCode: schedulerCode, fullCode: fullCode, pyValue: pyValue };
})();
