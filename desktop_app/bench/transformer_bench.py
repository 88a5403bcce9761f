"""`desktop-app bench transformer`: sampling speed of the transformer's presets (random weights),
in tokens per second, with the key-value cache (one variation; and steps per second for four
variations in one batch, each step a token of every variation) and without it (a full forward
pass over the whole sequence for every token), after a 256-token prompt."""

from __future__ import annotations

import time

import torch

from desktop_app.ml.models import transformer as M
from desktop_app.ml.models import transformer_tokens as T

PROMPT = 256


class _Counted:
    """The network with a count of the one-token steps taken through it."""

    def __init__(self, net: M.TransformerNet) -> None:
        self.net, self.config, self.steps = net, net.config, 0

    def parameters(self):
        return self.net.parameters()

    def eval(self) -> "_Counted":
        self.net.eval()
        return self

    def __call__(self, ids: torch.Tensor, cache=None) -> torch.Tensor:
        self.steps += ids.shape[1] == 1
        return self.net(ids, cache)


def _cached(net: M.TransformerNet, variations: int, bars: int) -> float:
    """Tokens per second (per variation) of the cached sampler writing `bars` four-voice bars."""
    counted = _Counted(net)
    prompt = [T.BOS] + [T.BAR] * (PROMPT - 1)
    plan = M.continuation_plan([16] * bars, 4, range(4))
    start = time.perf_counter()
    for _ in M.generate(counted, prompt, plan, variations, 1.0, 0, 0.95, seed=0, max_notes=6):
        pass
    return counted.steps / (time.perf_counter() - start)


@torch.no_grad()
def _uncached(net: M.TransformerNet, tokens: int) -> float:
    """Tokens per second when every token costs a forward pass over the whole sequence."""
    ids = torch.full((1, PROMPT), T.BAR, dtype=torch.long)
    start = time.perf_counter()
    for _ in range(tokens):
        logits = net(ids[:, -net.config.block_size:])[:, -1]
        ids = torch.cat([ids, logits.argmax(-1, keepdim=True)], dim=1)
    return tokens / (time.perf_counter() - start)


def run(bars: int = 2, tokens: int = 32) -> dict:
    torch.manual_seed(0)
    result = {"torch_threads": torch.get_num_threads(), "prompt_tokens": PROMPT, "presets": {}}
    for preset in ("tiny", "small", "base"):
        net = M.build(M.Config(**M.PRESETS[preset])).eval()
        result["presets"][preset] = {
            "parameters": sum(p.numel() for p in net.parameters()),
            "cached_tokens_per_s": round(_cached(net, 1, bars), 1),
            "cached_steps_per_s_4_variations": round(_cached(net, 4, bars), 1),
            "uncached_tokens_per_s": round(_uncached(net, tokens), 1),
        }
    return result
