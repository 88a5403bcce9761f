"""Run by test_train_ddp under torchrun: `desktop-app train` as a user would run it, then every
rank saves the weights it ended with, so the test can compare them."""

import os
import sys

from safetensors.torch import save_file

import desktop_app.ml.models.tiny as tiny
from desktop_app.cli import main

built = []
original_build = tiny.build


def build(config):
    built.append(original_build(config))
    return built[-1]


if __name__ == "__main__":  # dataset workers are spawned and import this file again
    tiny.build = build
    code = main(sys.argv[1:])
    out = sys.argv[sys.argv.index("--out") + 1]
    weights = {k: v.contiguous() for k, v in built[0].state_dict().items()}
    save_file(weights, os.path.join(out, f"rank{os.environ['RANK']}.safetensors"))
    sys.exit(code)
