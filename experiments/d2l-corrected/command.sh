#!/bin/sh
# d2l's "Learning Rate Scheduling" corrected: the same net, data, optimizer and schedules as
# ../d2l-as-run, each schedule applied on time and at every step, 5 seeds. The seeds are trained in
# order (every run's seed 0, then every run's seed 1, ...) so that a sweep stopped early leaves
# every run with the same seeds. Run from the repository root; run again to resume. Extra
# arguments are passed on (e.g. --progress).
set -e
for seeds in 1 2 3 4 5; do
    python -m lrcourse d2l --timing corrected --seeds "$seeds" --threads 1 --out experiments/d2l-corrected "$@"
done
