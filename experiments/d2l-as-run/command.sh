#!/bin/sh
# d2l's "Learning Rate Scheduling" (Dive into Deep Learning §12.11, PyTorch, d2l 1.0.3) as its code
# ran it: LeNet on real Fashion-MNIST (all 60 000 training images, 0..1, no augmentation), batch 256,
# plain SGD, 30 epochs, the five runs, its schedules applied one epoch late and its multi-factor
# scheduler stepped 30 times by its plot before training. One seed, as d2l. Run from the repository
# root; run again to resume. Extra arguments are passed on (e.g. --progress).
exec python -m lrcourse d2l --timing as-run --seeds 1 --threads 1 --out experiments/d2l-as-run "$@"
