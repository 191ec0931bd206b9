#!/bin/sh
# The frontier chapter, how to end a run: warmup + cosine and warmup + linear, both decaying to 10 % of the peak (--floor 0.1).
# LeNet on real Fashion-MNIST, batch 256, 10 epochs on the 55 000 training images left after holding out
# 5 000 for validation (the 10 000 test images once at the end); SGD with Nesterov momentum 0.9 and weight
# decay 5e-4 at a peak of 0.078, the peak chapter 10 tuned on validation for warmup + cosine and for WSD.
# 5 seeds, trained seed by seed (every run's seed 0, then seed 1, ...) so that a sweep stopped early
# leaves every recipe with the same seeds. Run from the repository root; run again to resume. Extra
# arguments are passed on (e.g. --progress).
set -e
for seeds in 1 2 3 4 5; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer sgd \
        --lr 0.078 --momentum 0.9 --batch-size 256 --epochs 10 --val-size 5000 \
        --recipes warmup_cosine,warmup_linear --floor 0.1 --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-floor0.1 "$@"
done
