"""The same loop under torchrun with DistributedDataParallel: two CPU processes (gloo) train from
one dataset folder and end with identical weights, which are the checkpoint rank 0 wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from desktop_app.ml.checkpoints import latest_checkpoint, load_checkpoint
from desktop_app.ml.train import read_metrics
from train_helpers import write_demo_folder

SCRIPT = Path(__file__).with_name("ddp_train_script.py")


def test_two_processes_end_with_identical_weights(tmp_path):
    data = write_demo_folder(tmp_path / "midi")
    out = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(SCRIPT),
               "train", "tiny", "--data", str(data), "--out", str(out), "--steps", "12", "--preset", "tiny",
               "--batch-size", "8", "--eval-every", "6", "--checkpoint-every", "6", "--device", "cpu", "--threads", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]

    rank0, rank1 = load_file(str(out / "rank0.safetensors")), load_file(str(out / "rank1.safetensors"))
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    checkpoint = load_checkpoint(latest_checkpoint(out))
    assert checkpoint.config["step"] == 12 and checkpoint.config["card"]["world_size"] == 2
    assert all(torch.equal(checkpoint.weights[k], rank0[k]) for k in rank0)
    assert "2 x cpu" in checkpoint.card
    assert [step for step, _ in read_metrics(out)["train/loss"]] == list(range(1, 13))  # one log, from rank 0
