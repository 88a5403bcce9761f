"""A decoder-only transformer that continues a song and fills in bars, read top to bottom like
nanoGPT's model.py: the config, the network (rotary positions, a key-value cache), training examples
and the loss, sampling (temperature, top-k, top-p, several variations in one batch), and the
generation API the editor and `desktop-app generate transformer` call.

Tokens are in `transformer_tokens`: bars of (voice) slots, each with its density and polyphony
levels, and a pitch range for the window. One checkpoint does both jobs: training sequences are in
continuation form or, with `infill_share`, in infill form (chosen slots masked where they stand and
written out after a separator, as MMM and Composer's Assistant do). Controls are the attribute
tokens: generation writes the composer's levels where the model would have written its own.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from desktop_app.ml.models import transformer_tokens as T
from desktop_app.ml.models.derived import per_weights


@dataclass
class TransformerConfig:
    """Network size and how training windows are cut and corrupted; PRESETS name the sizes."""

    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    block_size: int = 512  # tokens the model attends over
    dropout: float = 0.1
    vocab_size: int = T.VOCAB_SIZE
    window_bars: int = 8  # bars per training window
    hop_bars: int = 2  # bars between training windows
    transpose: int = 5  # augmentation: each training window moves by up to this many semitones
    infill_share: float = 0.5  # share of training sequences in infill form
    max_fill_bars: int = 4  # the longest run of bars masked in training


PRESETS: dict[str, dict] = {
    "tiny": {"n_layer": 2, "n_head": 2, "n_embd": 32, "block_size": 256, "window_bars": 3, "dropout": 0.0},
    "small": {"n_layer": 4, "n_head": 4, "n_embd": 256, "block_size": 512, "window_bars": 6},
    "base": {"n_layer": 6, "n_head": 8, "n_embd": 512, "block_size": 768, "window_bars": 12},
}


# ---------------------------------------------------------------------------------------------
# The network


def rope_tables(head_dim: int, positions: torch.Tensor, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of rotary angles for `positions` (T,), each (T, head_dim / 2)."""
    inv = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim)
    angles = positions.float()[:, None] * inv[None]
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the halves of each head's vector (B, H, T, D) by the position's angles."""
    a, b = x.chunk(2, dim=-1)
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


class KVCache:
    """Keys and values of every layer for a batch, preallocated to `size` tokens; `length` are
    filled. `valid` (B, size) marks real tokens (left padding is not), so rows of different prompt
    lengths decode together."""

    def __init__(self, config: TransformerConfig, batch: int, size: int | None = None, device=None) -> None:
        size = size or config.block_size
        shape = (config.n_layer, batch, config.n_head, size, config.n_embd // config.n_head)
        self.k = torch.zeros(shape, device=device)
        self.v = torch.zeros(shape, device=device)
        self.valid = torch.ones(batch, size, dtype=torch.bool, device=device)
        self.length = 0

    @property
    def size(self) -> int:
        return self.k.shape[3]


class Attention(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=False)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=False)
        self.dropout = config.dropout

    def forward(self, x, cos, sin, cache: KVCache | None = None, layer: int = 0, mask=None) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        drop = self.dropout if self.training else 0.0
        if cache is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=drop)
        else:
            start, stop = cache.length, cache.length + t
            cache.k[layer, :, :, start:stop], cache.v[layer, :, :, start:stop] = k, v
            keys, values = cache.k[layer, :, :, :stop], cache.v[layer, :, :, :stop]
            y = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
        return self.proj(y.transpose(1, 2).contiguous().view(b, t, c))


class Block(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.attn = Attention(config)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(),
                                 nn.Linear(4 * config.n_embd, config.n_embd), nn.Dropout(config.dropout))

    def forward(self, x, cos, sin, cache=None, layer=0, mask=None):
        x = x + self.attn(self.ln1(x), cos, sin, cache, layer, mask)
        return x + self.mlp(self.ln2(x))


class TransformerNet(nn.Module):
    """Token ids (B, T) to next-token logits (B, T, vocab); with a cache, T new tokens after the
    `cache.length` already in it (the cache is advanced)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0 and (config.n_embd // config.n_head) % 2 == 0
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        t = idx.shape[1]
        start = cache.length if cache is not None else 0
        if start + t > (cache.size if cache is not None else self.config.block_size):
            raise ValueError(f"{start + t} tokens exceed the model's {self.config.block_size}")
        cos, sin = rope_tables(self.config.n_embd // self.config.n_head,
                               torch.arange(start, start + t, device=idx.device))
        mask = None
        if cache is not None:
            stop = start + t
            causal = torch.ones(t, stop, dtype=torch.bool, device=idx.device).tril(diagonal=start)
            itself = torch.arange(stop, device=idx.device)[None] == torch.arange(start, stop, device=idx.device)[:, None]
            # Padding is never attended to, except by itself (a row with nothing to see gives NaN).
            mask = causal[None, None] & (cache.valid[:, None, None, :stop] | itself[None, None])
        x = self.drop(self.embed(idx))
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, cache, i, mask)
        if cache is not None:
            cache.length += t
        return self.head(self.ln_f(x))


class Decoder:
    """The network as generation calls it on a CPU, one token per row at a time. A step reads every
    weight once and so waits on memory, not arithmetic: the matrices are kept small. Where the CPU
    has native bfloat16 they are int8, a scale per output row (weight-only quantisation, as
    gpt-fast and torchao do it), multiplied with bfloat16 activations; elsewhere float16 for one
    row (a fast matrix-vector product with F16C) and float32 for several. Norms, the residual
    stream and the cache stay float32; rotary tables are made once; no module calls. A prompt of
    several tokens runs through the network itself, under bfloat16 autocast where native."""

    def __init__(self, net: TransformerNet) -> None:
        self.config = net.config
        self._net = weakref.ref(net)
        head_dim = net.config.n_embd // net.config.n_head
        positions = torch.arange(net.config.block_size, device=net.embed.weight.device)
        self._cos, self._sin = rope_tables(head_dim, positions)
        self._forms: dict[str, list[tuple]] = {}

    def parameters(self):
        return self._net().parameters()

    def eval(self) -> "Decoder":
        self._net().eval()
        return self

    def __call__(self, ids: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        if cache is None or ids.shape[1] != 1:  # a prompt: matrix products in bfloat16 where native
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=_native_bfloat16()):
                return self._net()(ids, cache).float()
        return self.step(ids[:, 0], cache)[:, None]

    @staticmethod
    def form_for(rows: int) -> str:
        """How a step of `rows` rows multiplies (see the class): int8, float16 or float32."""
        if _int8_matrices():
            return "int8"
        return "float16" if rows == 1 else "float32"

    def _weights(self, form: str) -> list[tuple]:
        if form not in self._forms:
            net = self._net()
            m = functools.partial(_matrix, form=form)
            self._forms[form] = [
                (b.ln1.weight, b.ln1.bias, m(b.attn.qkv.weight), m(b.attn.proj.weight), b.ln2.weight, b.ln2.bias,
                 m(b.mlp[0].weight, b.mlp[0].bias), m(b.mlp[2].weight, b.mlp[2].bias)) for b in net.blocks
            ] + [(net.embed.weight, net.ln_f.weight, net.ln_f.bias, m(net.head.weight))]
        return self._forms[form]

    @torch.no_grad()
    def step(self, tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Next-token logits (B, vocab) after one more token per row (B,); the cache advances."""
        pos, rows = cache.length, tokens.shape[0]
        if pos >= cache.size:
            raise ValueError(f"{pos + 1} tokens exceed the model's {cache.size}")
        *blocks, (embed, norm_w, norm_b, head) = self._weights(self.form_for(rows))
        c, h = self.config.n_embd, self.config.n_head
        d = c // h
        cos, sin = self._cos[pos], self._sin[pos]
        # Left padding (rows of different prompt lengths) is masked; the new token is always real.
        mask = None if bool(cache.valid[:, :pos].all()) else cache.valid[:, None, None, :pos + 1]
        x = F.embedding(tokens, embed)
        for i, (ln1_w, ln1_b, qkv, proj, ln2_w, ln2_b, fc, out) in enumerate(blocks):
            qkv_rows = _times(F.layer_norm(x, (c,), ln1_w, ln1_b), qkv).view(rows, 3, h, d)
            a, b = qkv_rows[:, :2, :, :d // 2], qkv_rows[:, :2, :, d // 2:]
            qk = torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
            cache.k[i, :, :, pos], cache.v[i, :, :, pos] = qk[:, 1], qkv_rows[:, 2]
            y = F.scaled_dot_product_attention(qk[:, 0, :, None], cache.k[i, :, :, :pos + 1],
                                               cache.v[i, :, :, :pos + 1], attn_mask=mask)
            x = x + _times(y.reshape(rows, c), proj)
            x = x + _times(F.gelu(_times(F.layer_norm(x, (c,), ln2_w, ln2_b), fc)), out)
        cache.length += 1
        return _times(F.layer_norm(x, (c,), norm_w, norm_b), head)


def _matrix(weight: torch.Tensor, bias: torch.Tensor | None = None, form: str = "float32") -> tuple:
    """A weight (out, in) and its bias as `_times` multiplies them in `form` (see Decoder)."""
    weight, bias = weight.detach(), None if bias is None else bias.detach().float()
    if form == "int8":
        scale = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        rows = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8)
        return rows, scale.to(torch.bfloat16), bias
    return weight.to(getattr(torch, form)), None, bias


def _times(x: torch.Tensor, matrix: tuple) -> torch.Tensor:
    """x (rows, in) float32 times a `_matrix`, plus its bias, in float32."""
    weight, scale, bias = matrix
    if scale is None:
        y = F.linear(x.to(weight.dtype), weight).float()
    else:
        y = torch._weight_int8pack_mm(x.to(torch.bfloat16), weight, scale).float()
    return y if bias is None else y + bias


@functools.cache
def _native_bfloat16() -> bool:
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


@functools.cache
def _int8_matrices() -> bool:
    """Whether steps use int8 matrices: native bfloat16 and torch's int8 weight-only product."""
    return _native_bfloat16() and hasattr(torch, "_weight_int8pack_mm")


def decoder(net):
    """What generation calls for logits: a TransformerNet on a CPU as its Decoder (kept until its
    weights change), anything else (another device, a wrapper that counts or times) as it is."""
    if isinstance(net, TransformerNet) and next(net.parameters()).device.type == "cpu":
        return per_weights(net, Decoder)
    return net


# ---------------------------------------------------------------------------------------------
# Training: what the registry and the training loop call (see desktop_app.ml.registry)

Config = TransformerConfig


def build(config: TransformerConfig) -> TransformerNet:
    return TransformerNet(config)


class Examples:
    """Windows of `window_bars` bars of every piece, kept as bars of slots; `batch` draws each
    window's transposition and form (continuation or infill, which slots are masked) from torch's
    global generator, which the training loop seeds per step."""

    def __init__(self, windows: list[tuple[list[T.TokenBar], bool]], config: TransformerConfig) -> None:
        self.windows, self.config = windows, config

    def __len__(self) -> int:
        return len(self.windows)

    def sequence(self, index: int) -> list[int]:
        bars, ends = self.windows[index]
        c = self.config
        seq = None
        if c.infill_share > 0 and float(torch.rand(())) < c.infill_share:
            for n in range(len(bars), 0, -1):  # fewer bars until the fills fit
                seq = infill_sequence(bars[:n], c.max_fill_bars)
                if len(seq) <= c.block_size + 1:
                    break
                seq = None
        if seq is None:
            seq = T.plain_sequence(bars, ends)[:c.block_size + 1]
        seq = np.asarray(seq, dtype=np.int64)
        if c.transpose > 0:
            pitches = T.is_kind(seq, T.PITCH0, 128)
            low, high = int(seq[pitches].min()) - T.PITCH0, int(seq[pitches].max()) - T.PITCH0
            shift = int(torch.randint(max(-c.transpose, -low), min(c.transpose, 127 - high) + 1, ()))
            seq[pitches] += shift
        return seq.tolist()

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        seqs = [self.sequence(int(i)) for i in indices]
        out = torch.full((len(seqs), max(len(s) for s in seqs)), T.PAD, dtype=torch.long)
        for row, seq in enumerate(seqs):
            out[row, :len(seq)] = torch.tensor(seq)
        return {"tokens": out}


def infill_sequence(bars: list[T.TokenBar], max_fill_bars: int) -> list[int]:
    """A training sequence in infill form: a run of 1..max_fill_bars bars masked in every voice,
    in one voice, or in a random half of the voices (torch's global generator)."""
    n_bars, n_voices = len(bars), len(bars[0].slots)
    length = int(torch.randint(1, min(max_fill_bars, n_bars) + 1, ()))
    first = int(torch.randint(0, n_bars - length + 1, ()))
    kind = int(torch.randint(0, 3, ()))
    if kind == 0:
        voices = range(n_voices)
    elif kind == 1:
        voices = [int(torch.randint(0, n_voices, ()))]
    else:
        voices = [v for v in range(n_voices) if float(torch.rand(())) < 0.5] or [0]
    return T.infill_sequence(bars, {(b, v) for b in range(first, first + length) for v in voices})


def make_examples(pieces: list, config: TransformerConfig) -> Examples:
    """Every window of `window_bars` bars, one each `hop_bars`, of every piece (never across pieces)."""
    windows = []
    for piece in pieces:
        if not len(piece.notes):
            continue
        bars, _dropped = T.piece_bars(piece.notes, piece.downbeats, piece.n_voices)
        starts = range(0, max(len(bars) - config.window_bars, 0) + 1, config.hop_bars)
        for start in starts:
            part = bars[start:start + config.window_bars]
            if any(slot.tokens for bar in part for slot in bar.slots):
                windows.append((part, start + config.window_bars >= len(bars)))
    return Examples(windows, config)


def loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Next-token cross-entropy over every real token; metrics: next-token accuracy and perplexity
    (e to the loss: the number of tokens the model hesitates between, on average)."""
    tokens = batch["tokens"]
    logits = model(tokens[:, :-1])
    target = tokens[:, 1:]
    value = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=T.PAD)
    with torch.no_grad():
        real = target != T.PAD
        accuracy = (logits.argmax(-1) == target)[real].float().mean() if real.any() else torch.tensor(0.0)
    return value, {"accuracy": float(accuracy), "perplexity": float(torch.exp(value.detach()))}


# ---------------------------------------------------------------------------------------------
# Sampling


def sample_tokens(logits: torch.Tensor, allowed: torch.Tensor, temperature: float, top_k: int, top_p: float,
                  generator: torch.Generator) -> torch.Tensor:
    """One token per row from softmax(logits / temperature) over the `allowed` tokens, cut to the
    top k and to the top-p nucleus (the fewest most probable tokens whose probability reaches p;
    the most probable is always kept); greedy at temperature 0. One sort serves the nucleus and
    the draw (inverse CDF), which costs less per token than a mask scattered back and multinomial."""
    logits = logits.float().masked_fill(~allowed, float("-inf"))
    if temperature <= 1e-6:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if 0 < top_k < logits.shape[-1]:
        logits = logits.masked_fill(logits < logits.topk(top_k, dim=-1).values[..., -1:], float("-inf"))
    probs, order = torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)
    if top_p < 1.0:
        probs = probs * ((probs.cumsum(dim=-1) - probs) < top_p)  # the probability ranked above
    cdf = probs.cumsum(dim=-1)
    drawn = torch.rand(cdf.shape[0], 1, generator=generator, device=cdf.device) * cdf[:, -1:]
    last_kept = (probs > 0).sum(dim=-1, keepdim=True) - 1  # a draw rounded up to the total stays in
    return order.gather(-1, torch.minimum((cdf <= drawn).sum(dim=-1, keepdim=True), last_kept))[:, 0]


@dataclass
class _Segment:
    """What one row writes for a slot: its head (None: the model picks a level of DENS or POLY),
    then notes unless `silent`, ended by `end` (the next segment's first token, or FILL_END)."""

    head: list[int | tuple[int, int]]
    bar: int  # index into the row's bar list
    voice: int
    bar_steps: int
    silent: bool
    end: int
    end_is_next_head: bool


class _Row:
    """One variation being written: its tokens, where it is in its plan of segments, its notes."""

    def __init__(self, tokens: list[int], plan: list[_Segment]) -> None:
        self.tokens, self.plan = list(tokens), plan
        self.segment, self.head_at, self.state = 0, 0, None
        self.notes: list[tuple[int, int, int, int, int, int]] = []  # bar, voice, pitch, pos, dur, vel
        self.pitch, self.vel, self.pos = None, T.DEFAULT_VELOCITY, 0

    @property
    def done(self) -> bool:
        return self.segment >= len(self.plan)

    def allowed(self, max_notes: int) -> np.ndarray:
        """The tokens this row may write next (one alone when the grammar forces it)."""
        mask = np.zeros(T.VOCAB_SIZE, dtype=bool)
        seg = self.plan[self.segment]
        if self.head_at < len(seg.head):
            item = seg.head[self.head_at]
            if isinstance(item, tuple):
                mask[item[0]:item[0] + item[1]] = True
            else:
                mask[item] = True
            return mask
        if not seg.silent:
            mask |= T.allowed_note_tokens(self.state, max_notes)
        if T.can_end(self.state) or not mask.any():
            mask[seg.end] = True
        return mask

    def take(self, token: int) -> tuple[int, int, int, int, int, int] | None:
        """Append `token`; returns a note when it completes one."""
        self.tokens.append(token)
        seg = self.plan[self.segment]
        if self.head_at < len(seg.head):
            self.head_at += 1
            if self.head_at == len(seg.head):
                self.state = T.SlotState(seg.bar_steps)
                self.vel, self.pitch = T.DEFAULT_VELOCITY, None
            return None
        if token == seg.end and (T.can_end(self.state) or seg.silent):
            self.segment += 1
            self.head_at = 1 if seg.end_is_next_head else 0
            if not self.done and self.head_at >= len(self.plan[self.segment].head):
                self.state = T.SlotState(self.plan[self.segment].bar_steps)
            return None
        T.advance(self.state, token)
        if T.is_kind(token, T.VEL0, T.N_VEL):
            self.vel = T.bin_velocity(token - T.VEL0)
        elif T.is_kind(token, T.PITCH0, 128):
            self.pitch = token - T.PITCH0
        elif T.is_kind(token, T.DUR0, T.MAX_DUR) and self.pitch is not None:
            note = (seg.bar, seg.voice, self.pitch, max(self.state.pos, 0), token - T.DUR0 + 1, self.vel)
            self.notes.append(note)
            self.pitch = None
            return note
        return None


def _prefill(net: TransformerNet, prompts: list[list[int]], device) -> tuple[KVCache, torch.Tensor]:
    """A cache holding the prompts (left-padded to one length) and each row's next-token logits.
    Variations of one prompt read it once and share the result."""
    if len(prompts) > 1 and all(p == prompts[0] for p in prompts):
        one, logits = _prefill(net, prompts[:1], device)
        cache = KVCache(net.config, len(prompts), device=device)
        n = cache.length = one.length
        cache.k[:, :, :, :n], cache.v[:, :, :, :n] = one.k[:, :, :, :n], one.v[:, :, :, :n]
        return cache, logits.expand(len(prompts), -1)
    length = max(len(p) for p in prompts)
    cache = KVCache(net.config, len(prompts), device=device)
    ids = torch.full((len(prompts), length), T.PAD, dtype=torch.long, device=device)
    for row, prompt in enumerate(prompts):
        ids[row, length - len(prompt):] = torch.tensor(prompt, device=device)
        cache.valid[row, :length - len(prompt)] = False
    return cache, net(ids, cache)[:, -1]


def _trimmed(tokens: list[int], keep: int) -> list[int]:
    """The header and the last tokens that fit in `keep`, from a BAR on (context for a refill)."""
    head, body = tokens[:4], tokens[4:]
    tail = body[-(keep - len(head)):]
    bars = [i for i, t in enumerate(tail) if t == T.BAR]
    return head + (tail[bars[0]:] if bars else tail)


@torch.no_grad()
def generate(net: TransformerNet, prompt: list[int], plan: list[_Segment], variations: int = 1,
             temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, seed: int | None = None,
             refill: bool = True, max_notes: int = 32) -> Iterator[tuple[int, tuple]]:
    """Write `plan` after `prompt` in `variations` rows at once, with the cache; yields (row, note)
    for each note as it is completed. When the cache is full, `refill` rebuilds it from each row's
    latest bars (continuation); without it the rows stop (infill)."""
    net.eval()
    device = next(net.parameters()).device
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed) if seed is not None else int(np.random.default_rng().integers(2**62)))
    rows = [_Row(prompt, plan) for _ in range(max(variations, 1))]
    forward = decoder(net)
    cache, logits = _prefill(forward, [prompt] * len(rows), device)
    while not all(r.done for r in rows):
        if cache.length >= cache.size:
            if not refill:
                return
            cache, logits = _prefill(forward, [_trimmed(r.tokens, cache.size * 2 // 3) for r in rows], device)
        allowed = np.stack([r.allowed(max_notes) if not r.done else _pad_only() for r in rows])
        if (allowed.sum(axis=1) == 1).all():  # the grammar or the plan says what comes: nothing to sample
            tokens = torch.from_numpy(allowed.argmax(axis=1)).to(device)
        else:
            tokens = sample_tokens(logits, torch.from_numpy(allowed).to(device), temperature, top_k, top_p, generator)
        for i, (row, token) in enumerate(zip(rows, tokens.tolist())):
            if not row.done:
                note = row.take(token)
                if note is not None:
                    yield i, note
        logits = forward(tokens[:, None], cache)[:, -1]


def _pad_only() -> np.ndarray:
    mask = np.zeros(T.VOCAB_SIZE, dtype=bool)
    mask[T.PAD] = True
    return mask


# ---------------------------------------------------------------------------------------------
# The generation API: songs in, notes out as they come, takes at the end


@dataclass(frozen=True)
class Controls:
    """What the composer asks for beyond temperature: a density and polyphony level ("low",
    "medium", "high") for every generated slot, and a pitch range (lowest, highest MIDI pitch)."""

    density: str | None = None
    polyphony: str | None = None
    pitch_range: tuple[int, int] | None = None


@dataclass(frozen=True)
class GenerationUpdate:
    """Notes decoded since the last update as (variation, track index, Note); `progress` from 0
    to 1; on the last update `takes` holds each variation's whole song and `dropped` the notes
    that could not be placed (outside the song's grid)."""

    notes: tuple = ()
    progress: float = 0.0
    takes: tuple = ()
    dropped: int = 0


def _level(name: str | None) -> int | None:
    if name is None:
        return None
    if name not in T.LEVELS:
        raise ValueError(f"level {name!r}: expected one of {', '.join(T.LEVELS)}")
    return T.LEVELS.index(name)


@dataclass
class _SongGrid:
    """A song as the model sees it: its Piece notes, barlines in steps (extended far enough) and bars."""

    song: object
    notes: np.ndarray
    lines: np.ndarray
    bars: list[T.TokenBar]
    n_voices: int


def _song_grid(song, extra_bars: int = 0) -> _SongGrid:
    from desktop_app.ml.data.convert import barline_ticks, quantised_notes
    from desktop_app.music.timing import tick_to_step

    n_voices = len(song.tracks)
    if not 1 <= n_voices <= T.MAX_VOICES:
        raise ValueError(f"the transformer takes 1 to {T.MAX_VOICES} tracks; this song has {n_voices}")
    notes = quantised_notes(song)
    end = int(max(song.end_tick, 1))
    bar = song.meter.ticks_per_bar(max(end - 1, 0))
    ticks = barline_ticks(song, end + (extra_bars + 2) * bar)
    lines = np.unique(tick_to_step(np.array(ticks), song.ppq)).astype(np.int64)
    lines = T.bar_lines(notes, lines)
    bars, _ = T.piece_bars(notes, lines, n_voices)
    return _SongGrid(song, notes, lines, bars, n_voices)


def _tracks(song, track_indices: Sequence[int] | None) -> list[int]:
    """The tracks to write: those given, else every pitched (non-drum) track."""
    if track_indices is None:
        return [i for i, track in enumerate(song.tracks) if not track.is_drum]
    tracks = sorted(set(int(t) for t in track_indices))
    if any(not 0 <= t < len(song.tracks) for t in tracks):
        raise ValueError(f"tracks {[t + 1 for t in tracks]}: the song has {len(song.tracks)}")
    return tracks


def _model(net: nn.Module) -> TransformerNet:
    return net.module if hasattr(net, "module") else net


def _slot_head(voice: int, density: int | None, polyphony: int | None) -> list:
    return [T.VOICE0 + voice, T.DENS0 + density if density is not None else (T.DENS0, 3),
            T.POLY0 + polyphony if polyphony is not None else (T.POLY0, 3)]


def _to_notes(grid: _SongGrid, rows: list[tuple], bar_starts: Sequence[int]) -> list[tuple[int, object]]:
    """(track, Note) for decoded rows (bar, voice, pitch, pos, dur, vel) in ticks of the song."""
    from desktop_app.music.note import Note
    from desktop_app.music.timing import step_to_tick

    out = []
    for bar, voice, pitch, pos, dur, vel in rows:
        start = int(bar_starts[bar]) + int(pos)
        first, last = (int(x) for x in step_to_tick(np.array([start, start + dur]), grid.song.ppq))
        if first < 0:
            continue
        out.append((int(voice), Note(int(pitch), first, max(last - first, 1), int(vel))))
    return out


def _takes(song, removed: set[tuple[int, int]], added: list[list[tuple[int, object]]], tracks: Sequence[int]) -> tuple:
    """One song per variation: the seed with the notes of `removed` (track, index) taken out and
    the variation's notes added to their tracks (every other note is the seed's own object)."""
    takes = []
    for notes in added:
        new_tracks = []
        for t, track in enumerate(song.tracks):
            kept = [n for i, n in enumerate(track.notes) if (t, i) not in removed]
            new_tracks.append(track.with_notes(kept + [n for v, n in notes if v == t]) if t in tracks else track)
        takes.append(song.with_tracks(new_tracks))
    return tuple(takes)


def _stream(net, config, grid, prompt, plan, bar_starts, variations, temperature, top_k, top_p, seed,
            refill, tracks, removed, max_notes) -> Iterator[GenerationUpdate]:
    """Run `generate` and turn its notes into updates, then the takes."""
    total = max(seg.bar for seg in plan) + 1
    added: list[list[tuple[int, object]]] = [[] for _ in range(max(variations, 1))]
    dropped = 0
    notes = generate(_model(net), prompt, plan, variations, temperature, top_k, top_p, seed, refill, max_notes)
    for row, note in notes:
        placed = _to_notes(grid, [note], bar_starts)
        dropped += 1 - len(placed)
        for voice, n in placed:
            added[row].append((voice, n))
            yield GenerationUpdate(((row, voice, n),), min(note[0] / total, 0.99))
    yield GenerationUpdate((), 1.0, _takes(grid.song, removed, added, tracks), dropped)


def continuation_plan(bar_lengths: Sequence[int], n_voices: int, tracks: Sequence[int],
                      density: int | None = None, polyphony: int | None = None,
                      known: dict[tuple[int, int], T.Slot] | None = None) -> list[_Segment]:
    """What continuing writes: each new bar (of the given lengths in steps) with a slot per voice,
    those of `tracks` at the given levels (None: the model's choice), the others empty, or as
    `known` gives them by (bar, voice): their notes are written as they are, for the model to hear."""
    plan: list[_Segment] = []
    known = known or {}
    for b, length in enumerate(bar_lengths):
        for v in range(n_voices):
            silent = v not in tracks
            head = _slot_head(v, 0 if silent else density, 0 if silent else polyphony)
            if silent and (b, v) in known:
                head = known[b, v].head() + list(known[b, v].tokens)
            plan.append(_Segment(([T.BAR] if v == 0 else []) + head, b, v, int(length), silent, T.BAR, False))
    for i in range(len(plan) - 1):
        plan[i].end, plan[i].end_is_next_head = plan[i + 1].head[0], True
    return plan


def continue_song(net: nn.Module, config: TransformerConfig, song, track_indices: Sequence[int] | None = None,
                  bars: int = 2, variations: int = 4, temperature: float = 1.0, top_p: float = 0.95,
                  controls: Controls = Controls(), seed: int | None = None, top_k: int = 0,
                  max_notes: int = 32, from_bar: int | None = None) -> Iterator[GenerationUpdate]:
    """Continue `song` by `bars` bars after its last barline, writing the tracks of `track_indices`
    (all when None; the others stay silent there). Yields notes as they are decoded, in
    `variations` takes sampled in one batch, then the takes. A slot (a bar of a track) holds at most
    `max_notes` notes. With `from_bar` (as the app numbers bars) it writes from that bar instead:
    nothing at or after it is context, the written tracks' notes that begin in the bars written are
    replaced, and the other tracks' notes there are given to the model as they are."""
    grid = _song_grid(song, bars if from_bar is None else max(from_bar, 0) + bars)
    tracks = _tracks(song, track_indices)
    if bars < 1:
        raise ValueError("bars must be at least 1")
    if from_bar is None:
        first = int(np.searchsorted(grid.lines, int(grid.notes[:, 3].max()) if len(grid.notes) else 0))
    else:
        from desktop_app.ml.models.arcnn_track import bars_region

        first = int(np.searchsorted(grid.lines, bars_region(song, from_bar, from_bar).start))
    first = min(first, len(grid.lines) - 1)
    while len(grid.lines) < first + bars + 1:
        grid.lines = np.append(grid.lines, 2 * grid.lines[-1] - grid.lines[-2])
    lengths = [int(grid.lines[first + b + 1] - grid.lines[first + b]) for b in range(bars)]
    known = {(b, slot.voice): slot for b in range(bars) if first + b < len(grid.bars)
             for slot in grid.bars[first + b].slots if slot.tokens} if from_bar is not None else {}
    plan = continuation_plan(lengths, grid.n_voices, tracks, _level(controls.density), _level(controls.polyphony),
                             known)
    size = _model(net).config.block_size
    context = grid.bars[:first]
    per_bar = max((len(T.plain_sequence([bar])) - 4 for bar in context), default=4 * grid.n_voices)
    keep = max(size - min(bars * per_bar, size // 2), size // 3)
    prompt = T.plain_sequence(context, span=controls.pitch_range or T.pitch_span(context))
    prompt = prompt if len(prompt) <= keep else _trimmed(prompt, keep)
    bar_starts = grid.lines[first:first + bars]
    removed = set()
    if from_bar is not None:
        from desktop_app.music.timing import tick_to_step

        start, stop = int(grid.lines[first]), int(grid.lines[first + bars])
        for t in tracks:
            steps = tick_to_step(np.array([n.start for n in song.tracks[t].notes], dtype=np.int64), song.ppq)
            removed |= {(t, i) for i, step in enumerate(steps) if start <= step < stop}
    yield from _stream(net, config, grid, prompt, plan, bar_starts, variations, temperature, top_k, top_p, seed,
                       True, tracks, removed, max_notes)


def infill_song(net: nn.Module, config: TransformerConfig, song, first_bar: int, last_bar: int,
                track_indices: Sequence[int] | None = None, variations: int = 4, temperature: float = 1.0,
                top_p: float = 0.95, controls: Controls = Controls(), seed: int | None = None,
                top_k: int = 0, max_notes: int = 32) -> Iterator[GenerationUpdate]:
    """Write bars `first_bar`..`last_bar` (inclusive, as the app numbers them) of the tracks of
    `track_indices` (all when None) anew, conditioned on the bars before and after. Every note
    outside those bars and tracks is kept as the very same object; notes that begin inside them
    are replaced. Yields notes as they are decoded, then `variations` takes."""
    from desktop_app.ml.models.arcnn_track import bars_region
    from desktop_app.music.timing import tick_to_step

    grid = _song_grid(song, last_bar + 2)
    tracks = _tracks(song, track_indices)
    region = bars_region(song, first_bar, last_bar)
    lines = grid.lines
    masked_bars = [i for i in range(len(lines) - 1) if region.start <= lines[i] < region.stop]
    if not masked_bars:
        raise ValueError(f"bars {first_bar}-{last_bar} lie outside the song")
    while len(grid.bars) < masked_bars[-1] + 1:
        i = len(grid.bars)
        grid.bars.append(T.TokenBar(int(lines[i]), int(lines[i + 1] - lines[i]),
                                    [T.Slot(v, 0, 0) for v in range(grid.n_voices)]))
    density, polyphony = _level(controls.density), _level(controls.polyphony)
    for i in masked_bars:  # the masked slots' heads: the composer's levels, else what was there
        for slot in grid.bars[i].slots:
            if slot.voice in tracks:
                slot.density = density if density is not None else _usual_level(grid, slot, "density")
                slot.polyphony = polyphony if polyphony is not None else _usual_level(grid, slot, "polyphony")
    # Context: as many bars around the gap as fit with room for the fills.
    size = _model(net).config.block_size
    per_slot = max((len(s.tokens) + 3 for bar in grid.bars for s in bar.slots), default=8)
    budget = min(len(masked_bars) * len(tracks) * (per_slot + 2), size // 2)
    lo, hi = masked_bars[0], masked_bars[-1] + 1
    masked = {(b, v) for b in masked_bars for v in tracks}

    def prompt_for(a: int, z: int) -> list[int]:
        window = grid.bars[a:z]
        return T.infill_sequence(window, {(b - a, v) for b, v in masked}, span=controls.pitch_range, fills=False)

    if len(prompt_for(lo, hi)) + budget > size:
        raise ValueError(f"bars {first_bar}-{last_bar} are too many to fill at once for this model; fill fewer")
    while True:
        grown = False
        for a, z in ((lo - 1, hi), (lo, hi + 1)):
            if 0 <= a and z <= len(grid.bars) and len(prompt_for(a, z)) + budget <= size:
                lo, hi, grown = a, z, True
        if not grown:
            break
    plan = [_Segment([T.FILL] + grid.bars[b].slots[v].head(), b - lo, v, grid.bars[b].length, False, T.FILL_END, False)
            for b in masked_bars for v in tracks]
    starts = tick_to_step(np.array([n.start for t in tracks for n in song.tracks[t].notes], dtype=np.int64), song.ppq)
    removed, k = set(), 0
    for t in tracks:
        for i, _note in enumerate(song.tracks[t].notes):
            if region.start <= starts[k] < region.stop:
                removed.add((t, i))
            k += 1
    bar_starts = lines[lo:hi]
    yield from _stream(net, config, grid, prompt_for(lo, hi), plan, bar_starts, variations, temperature, top_k,
                       top_p, seed, False, tracks, removed, max_notes)


def _usual_level(grid: _SongGrid, slot: T.Slot, kind: str) -> int:
    """A masked slot's level when the composer gives none: the slot's own when it holds notes,
    else the most common level of that voice's slots that do."""
    if slot.tokens:
        return getattr(slot, kind)
    levels = [getattr(bar.slots[slot.voice], kind) for bar in grid.bars if bar.slots[slot.voice].tokens]
    return int(np.bincount(levels).argmax()) if levels else 1


def evaluate_samples(net: TransformerNet, config: TransformerConfig, pieces: list, seed: int = 0,
                     max_windows: int | None = None, progress=None, train_pieces: list | None = None) -> dict:
    """Continuations and infills of held-out pieces against their real bars, control accuracy and
    copying of the training set (see transformer_eval)."""
    from desktop_app.ml.models.transformer_eval import evaluate_samples as run

    return run(net, config, pieces, seed, max_windows, progress, train_pieces)


def split_figures(net: TransformerNet, config: TransformerConfig, pieces: list, seed: int = 0) -> dict:
    """Loss per token and per note on a split (see transformer_eval)."""
    from desktop_app.ml.models.transformer_eval import split_figures as run

    return run(net, config, pieces, seed)


def last_update(updates: Iterator[GenerationUpdate]) -> GenerationUpdate:
    """Run a generation to its end and return the final update (the takes)."""
    update = GenerationUpdate()
    for update in updates:
        pass
    return update
