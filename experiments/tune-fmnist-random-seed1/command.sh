#!/bin/sh
# Chapter 14, search against the range test: ../tune-fmnist-random again with another sampler
# seed, to see how much a search's outcome depends on it. An Optuna study of 30 finished trials,
# sampler random (seed 1), pruner median, over the schedule family (cosine, WSD, one-cycle, linear
# to zero), the peak rate (0.003 to 1, log scale) and the warmup (0 to 30 % of the run). SGD with
# Nesterov momentum 0.9 and weight decay 5e-4, LeNet, batch 256, 10 epochs on the 55 000 training
# images left after holding out 5 000 for validation; every trial trains with seed 100 and is
# judged by its last validation accuracy. The test split is seen only by the best trial's re-runs
# (5 seeds, in final/). The study lives in study.journal. Run from the repository root; run again
# to resume; run it in more terminals at once to search faster. Extra arguments are passed on.
set -e
python -m lrcourse tune --data fashion-mnist --data-root data --model lenet --optimizer sgd \
    --momentum 0.9 --batch-size 256 --epochs 10 --val-size 5000 --trials 30 \
    --sampler random --pruner median --seed 1 --final-seeds 5 --threads 1 --no-progress \
    --out experiments/tune-fmnist-random-seed1 "$@"
