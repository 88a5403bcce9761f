"""GAN accompaniment: given the melody (soprano) of a chorale window, write alto, tenor and bass with a
conditional Wasserstein GAN with gradient penalty, as AWS DeepComposer's accompaniment model does.

Read top to bottom: the rolls the networks see, the generator (a U-Net from melody plus noise to three
voices), the critic (strided convolutions over melody and accompaniment), the losses (Wasserstein with
gradient penalty, n_critic critic steps per generator step), what the registry and the training loop
call, decoding rolls to notes, and the song-level API the editor and the CLI use.

- Window: `steps` 16th-note steps (64 = 4 bars of 4/4 by default, 32 for 2 bars), `n_pitches` rows from
  `low_pitch` shared by every voice. Each voice is monophonic: a pitch (or a rest) per step, and an
  onset per step, so a repeated note stays two notes.
- Generator input planes: melody roll, melody onsets, metre (1 downbeat, 0.5 beat, 0.25 eighth) and
  the row's pitch height (0..1), so the bass knows where low is. Noise: channels of Gaussian noise
  joined at the U-Net's bottom and at each level on the way up, scaled by `variety` when generating.
- Generator output per voice and step: a softmax over the pitches of the voice's range
  (`voice_ranges`) plus a "rest" class, and an onset probability per cell. The critic sees the
  voice's roll and roll x onset as its onset plane; with `hard` (the default) these are the decoded
  one-hot notes, the gradient passing straight through to the probabilities, so fake and real differ
  in their music and not in their softness. Real data are one-hot. The melody is an input only: it
  passes through unchanged.
- Critic: melody planes and the three voices' rolls and onsets (9 planes), four 4x4 stride-2
  convolutions with leaky ReLU and no normalisation (the gradient penalty is per sample), a linear score.
- Losses: critic E[C(fake)] - E[C(real)] + gp_weight * E[(|grad C(x_hat)| - 1)^2] on random mixes x_hat
  of real and fake; generator -E[C(fake)]. Adam (betas 0.5, 0.9) as DeepComposer; one optimizer with a
  parameter group per network (see `make_optimizer` and `train_step`, the training loop's hooks for
  models with their own step), so a checkpoint holds both networks' optimizer states.
- Validation (`loss` with the net in eval mode): the Wasserstein estimate E[C(real)] - E[C(fake)] as the
  loss (lower: the critic tells them apart less), the losses, and music metrics of generated and real
  accompaniments (in-scale ratio, polyphony, empty-bar rate, pitches used, voice-range violations,
  parallel fifths and octaves).

Generation API (for the Accompany panel, the CLI and the bench):

    accompany(net, config, song, melody_track, voices=("alto", "tenor", "bass"), seed=None, variety=1.0,
              variations=1, threshold=0.0) -> list[tuple[Track, ...]]
        One take per variation: a tuple of new tracks, one per voice asked for, in the order of VOICES
        (named "Alto", "Tenor", "Bass", GM viola, cello, contrabass, on channels the song does not use).
        The song is not changed; `with_accompaniment(song, take)` is the song with a take's tracks
        added after the others. Melodies longer than a window are harmonised in windows that overlap
        by half; each join is cut where the two windows agree (else at a note start near the middle
        of the overlap), and a note sounding across the cut is kept whole. `variety` scales the noise
        (0 gives the same voices for every seed); `threshold` turns steps whose likeliest pitch is
        less likely than it into rests. The same seed gives the same takes; take r of seed s is the
        first take of seed s + r.
    harmonise_rolls(net, melody, onsets, metre, seed=None, variety=1.0, threshold=0.0) -> (pitches, onsets)
        The network on a batch of windows as arrays: (B, steps) melody pitches (-1 rest), onsets and
        metre in; (B, 3, steps) pitches (-1 rest) and onsets out. For the training panel's roll strip:
        the same seed on the same windows is the same noise at every refresh.
    preview_windows(pieces, config, count=4) -> {"melody", "melody_onsets", "voices", "voice_onsets",
        "metre", "key": arrays}: fixed windows spread over `pieces` (their real voices too) for that strip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from desktop_app.ml.models.arcnn import metre_plane  # 1 on a downbeat, 0.5 a beat, 0.25 an eighth
from desktop_app.music.timing import MODEL_STEPS_PER_BEAT

VOICES = ("alto", "tenor", "bass")  # the voices written, in score order under the melody
TRACK_STYLE = {"alto": ("Alto", 41), "tenor": ("Tenor", 42), "bass": ("Bass", 43)}  # name, GM program
IN_PLANES = 4  # melody roll, melody onsets, metre, pitch height
CRITIC_PLANES = 3 + 2 * len(VOICES)  # melody roll, onsets, metre; each voice's roll and onsets


@dataclass
class GanConfig:
    """Window, network widths and the adversarial training's knobs; PRESETS name the sizes offered."""

    steps: int = 64  # 4 bars of 4/4 at 16th notes (2 to 4 bars: 32 to 64)
    low_pitch: int = 28  # E1: chorale basses reach C2, with room to transpose
    n_pitches: int = 64  # shared by all voices; steps and n_pitches must divide by 2**depth
    width: int = 8  # generator filters at the top level, doubled at each level down
    depth: int = 3
    noise_channels: int = 4  # noise planes at the U-Net's bottom (one more at each level up)
    critic_width: int = 16  # critic filters at its first convolution, doubled at each of the four
    n_critic: int = 5  # critic steps per generator step
    gp_weight: float = 10.0
    betas: tuple[float, float] = (0.5, 0.9)
    hop: int = 16  # steps between training windows (a bar)
    transpose: int = 5  # augmentation: each training window moves by up to this many semitones
    hard: bool = True  # the critic sees decoded (one-hot) voices, gradients straight through (see fake_planes)
    # lowest and highest MIDI pitch each voice may write: the chorales' alto, tenor and bass ranges and a
    # fourth around them for the transposition (pitches outside are masked off the generator's softmax)
    voice_ranges: tuple[tuple[int, int], ...] = ((48, 81), (43, 77), (31, 71))

    @property
    def high_pitch(self) -> int:
        return self.low_pitch + self.n_pitches - 1


PRESETS: dict[str, dict] = {
    "tiny": {"steps": 32, "width": 4, "depth": 2, "noise_channels": 2, "critic_width": 4, "n_critic": 2},
    "small": {"width": 8, "depth": 3, "critic_width": 16},
    "base": {"width": 16, "depth": 4, "noise_channels": 8, "critic_width": 32},
}


# ---------------------------------------------------------------------------------------------
# The rolls the networks see


def voice_states(notes: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """One voice's notes ((n, 5) Piece rows, steps from the window's start) as a pitch per step (-1:
    rest) and onsets. Where notes overlap the later one wins (of a chord, the highest)."""
    pitch = np.full(steps, -1, dtype=np.int16)
    onset = np.zeros(steps, dtype=bool)
    for _voice, p, start, end, _velocity in notes:
        if start >= steps or end <= 0:
            continue
        pitch[max(start, 0):min(end, steps)] = p
        if start >= 0:
            onset[start] = True
    return pitch, onset & (pitch >= 0)


def one_hot(pitch: torch.Tensor, config: GanConfig) -> torch.Tensor:
    """(..., steps) MIDI pitches (-1 or out of range: nothing) as (..., steps, n_pitches) floats."""
    rows = pitch.long() - config.low_pitch
    inside = (pitch >= 0) & (rows >= 0) & (rows < config.n_pitches)
    out = F.one_hot(torch.where(inside, rows, 0), config.n_pitches).float()
    return out * inside[..., None].float()


def condition_planes(melody: torch.Tensor, onsets: torch.Tensor, metre: torch.Tensor,
                     config: GanConfig) -> torch.Tensor:
    """The generator's input: (B, steps) melody pitches, onsets and metre as (B, IN_PLANES, steps, pitches)."""
    roll = one_hot(melody, config)
    b, t, p = roll.shape
    height = torch.linspace(0.0, 1.0, p, device=roll.device).expand(b, t, p)
    return torch.stack([roll, roll * onsets[..., None].float(), metre[..., None].expand(b, t, p), height], dim=1)


def real_planes(voices: torch.Tensor, voice_onsets: torch.Tensor, config: GanConfig) -> torch.Tensor:
    """Real accompaniment, (B, 3, steps) pitches and onsets, as (B, 6, steps, pitches): rolls then onsets."""
    roll = one_hot(voices, config)
    return torch.cat([roll, roll * voice_onsets[..., None].float()], dim=1)


def critic_input(condition: torch.Tensor, accompaniment: torch.Tensor) -> torch.Tensor:
    """What the critic judges: the melody's roll, onsets and metre beside the accompaniment's planes."""
    return torch.cat([condition[:, :3], accompaniment], dim=1)


# ---------------------------------------------------------------------------------------------
# The generator: a U-Net from melody and noise to three voices


class _Block(nn.Sequential):
    """Two 3x3 convolutions with group norm (per sample, so the train and eval modes agree) and leaky ReLU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        groups = min(4, c_out)
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1), nn.GroupNorm(groups, c_out), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1), nn.GroupNorm(groups, c_out), nn.LeakyReLU(0.2, inplace=True),
        )


class Generator(nn.Module):
    """(B, IN_PLANES, steps, pitches) and noise to per-voice logits: pitch (B, 3, steps, pitches),
    rest (B, 3, steps) and onset (B, 3, steps, pitches)."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        w, d, z = config.width, config.depth, config.noise_channels
        widths = [w * 2**i for i in range(d + 1)]
        self.down = nn.ModuleList(_Block(IN_PLANES if i == 0 else widths[i - 1], widths[i]) for i in range(d))
        self.bottom = _Block(widths[d - 1] + z, widths[d])
        self.up = nn.ModuleList(_Block(widths[i + 1] + widths[i] + 1, widths[i]) for i in reversed(range(d)))
        # per voice: pitch logits, onset logits, and rest logits averaged over the pitches (one a step)
        self.head = nn.Conv2d(widths[0], 3 * len(VOICES), 1)
        mask = torch.full((len(VOICES), 1, config.n_pitches), -1e4)
        for v, (low, high) in enumerate(config.voice_ranges):
            mask[v, 0, max(low - config.low_pitch, 0):max(high - config.low_pitch + 1, 0)] = 0.0
        self.register_buffer("range_mask", mask, persistent=False)

    def noise_shapes(self, batch: int) -> list[tuple[int, ...]]:
        """Shapes of the noise tensors forward takes: the bottom's, then one per level up."""
        c = self.config
        shapes = [(batch, c.noise_channels, c.steps >> c.depth, c.n_pitches >> c.depth)]
        shapes += [(batch, 1, c.steps >> i, c.n_pitches >> i) for i in reversed(range(c.depth))]
        return shapes

    def forward(self, condition: torch.Tensor, noise: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        skips = []
        x = condition
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.avg_pool2d(x, 2)
        x = self.bottom(torch.cat([x, noise[0]], dim=1))
        for block, n in zip(self.up, noise[1:]):
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, skips.pop(), n], dim=1))
        pitch, onset, rest = self.head(x).chunk(3, dim=1)
        return pitch + self.range_mask, rest.mean(dim=3), onset


def voice_probabilities(pitch_logits: torch.Tensor, rest_logits: torch.Tensor) -> torch.Tensor:
    """Softmax over each voice's pitches and its rest at each step: (B, 3, steps, pitches + 1), rest last."""
    return torch.softmax(torch.cat([pitch_logits, rest_logits[..., None]], dim=-1), dim=-1)


def fake_planes(outputs: tuple[torch.Tensor, ...], hard: bool = False) -> torch.Tensor:
    """The generator's output as the critic's accompaniment planes (B, 6, steps, pitches): the pitch
    probabilities as each voice's roll, and roll x onset probability as its onsets. With `hard`, the
    critic sees what decoding gives (one-hot likeliest pitch or rest, onsets over one half) while the
    gradient flows through the probabilities (straight-through, as BinaryMuseGAN's binary neurons), so
    the critic cannot tell fake from real by softness alone."""
    pitch_logits, rest_logits, onset_logits = outputs
    probs = voice_probabilities(pitch_logits, rest_logits)
    onsets = torch.sigmoid(onset_logits)
    if hard:
        probs = F.one_hot(probs.argmax(dim=-1), probs.shape[-1]).to(probs.dtype) + probs - probs.detach()
        onsets = (onsets > 0.5).to(onsets.dtype) + onsets - onsets.detach()
    roll = probs[..., :-1]
    return torch.cat([roll, roll * onsets], dim=1)


# ---------------------------------------------------------------------------------------------
# The critic


class Critic(nn.Module):
    """(B, CRITIC_PLANES, steps, pitches) to one score per sample: four 4x4 stride-2 convolutions with
    leaky ReLU and no normalisation (DeepComposer's), then a linear layer."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        c = config.critic_width
        widths = [CRITIC_PLANES, c, 2 * c, 4 * c, 8 * c]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        self.convs = nn.Sequential(*layers)
        self.score = nn.Linear(8 * c * (config.steps // 16) * (config.n_pitches // 16), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.convs(x).flatten(1))[:, 0]


class GanNet(nn.Module):
    """The generator and the critic, kept as one module so that one checkpoint holds both."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        self.generator = Generator(config)
        self.critic = Critic(config)

    def noise(self, batch: int, generator: torch.Generator | None = None, scale: float = 1.0) -> list[torch.Tensor]:
        """Gaussian noise for a batch, from `generator` (else torch's global one), times `scale`."""
        device = self.critic.score.weight.device
        shapes = self.generator.noise_shapes(batch)
        return [(torch.randn(shape, generator=generator) * scale).to(device) for shape in shapes]

    def forward(self, condition: torch.Tensor, noise: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        return self.generator(condition, noise)


# ---------------------------------------------------------------------------------------------
# The losses


def mix(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
    """x_hat = alpha * real + (1 - alpha) * fake, one alpha per sample (uniform when not given), as a
    leaf that records its gradient."""
    if alpha is None:
        alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    return (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)


def penalty_of(scores: torch.Tensor, mixed: torch.Tensor) -> torch.Tensor:
    """E[(|d score / d x_hat| - 1)^2], the gradient taken over all of each sample's planes."""
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP's penalty (Gulrajani et al.) of `critic` on mixes of real and fake samples."""
    mixed = mix(real, fake, alpha)
    with torch.enable_grad():
        return penalty_of(critic(mixed), mixed)


def critic_loss(net: GanNet, condition: torch.Tensor, real: torch.Tensor,
                fake: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """The critic's WGAN-GP loss and its parts: E[C(fake)] - E[C(real)] + gp_weight * penalty. Real,
    fake and mixed samples go through the critic as one batch (it has no batch statistics)."""
    real_in, fake_in = critic_input(condition, real), critic_input(condition, fake)
    mixed = mix(real_in, fake_in)
    with torch.enable_grad():
        real_scores, fake_scores, mixed_scores = net.critic(torch.cat([real_in, fake_in, mixed])).chunk(3)
        penalty = penalty_of(mixed_scores, mixed)
    real_score, fake_score = real_scores.mean(), fake_scores.mean()
    value = fake_score - real_score + net.config.gp_weight * penalty
    return value, {"c_loss": value.item(), "gp": penalty.item(), "w_distance": (real_score - fake_score).item(),
                   "g_loss": -fake_score.item()}


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


# ---------------------------------------------------------------------------------------------
# Training: what the registry and the training loop call (see desktop_app.ml.registry, ml.train)

Config = GanConfig


def build(config: GanConfig) -> GanNet:
    for size, name in ((config.steps, "steps"), (config.n_pitches, "n_pitches")):
        if size % 16 or size % 2**config.depth:
            raise ValueError(f"gan: {name} {size} must divide by 16 and by 2**depth")
    return GanNet(config)


class Examples:
    """Training windows as pitch indices: (N, steps) melody pitches (-1 rest) and onsets, (N, 3, steps)
    accompaniment pitches and onsets, (N, steps) metre, and (N,) key (tonic pitch class + 12 if minor,
    -1 unknown) for the in-scale metric. Rolls are made per batch, so memory stays small."""

    def __init__(self, arrays: dict[str, torch.Tensor]) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays["melody"])

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: value[indices] for name, value in self.arrays.items()}


def key_index(key: str) -> int:
    """"Am" -> 9 + 12; "" (or unknown) -> -1."""
    from desktop_app.music.scales import pitch_classes_of_key

    if not key:
        return -1
    try:
        return int(pitch_classes_of_key(key)[0]) + (12 if key.endswith("m") else 0)
    except (KeyError, ValueError, IndexError):
        return -1


def key_name(index: int) -> str:
    """The inverse of key_index, spelled with flats (enough for the in-scale metric)."""
    if index < 0:
        return ""
    names = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
    return names[index % 12] + ("m" if index >= 12 else "")


def window_arrays(notes: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A window's notes (voice 0 the melody, 1..3 the accompaniment) as melody pitch and onsets per
    step, and (3, steps) accompaniment pitches and onsets."""
    melody, melody_on = voice_states(notes[notes[:, 0] == 0], steps)
    voices = np.full((len(VOICES), steps), -1, dtype=np.int16)
    onsets = np.zeros((len(VOICES), steps), dtype=bool)
    for v in range(len(VOICES)):
        voices[v], onsets[v] = voice_states(notes[notes[:, 0] == v + 1], steps)
    return melody, melody_on, voices, onsets


def make_examples(pieces: list, config: GanConfig) -> Examples:
    """Every window of `config.steps` steps, one a bar, of every piece with four voices or more (voice 0
    the melody, 1..3 the accompaniment); windows where the melody or all accompaniment is silent are left out."""
    from desktop_app.ml.data.windows import windows

    names = ("melody", "melody_onsets", "voices", "voice_onsets", "metre", "key")
    rows: dict[str, list] = {name: [] for name in names}
    usable = [p for p in pieces if p.n_voices >= 1 + len(VOICES)]
    for piece in usable:
        key = key_index(piece.key)
        for w in windows([piece], config.steps, config.hop, held_notes=True):
            melody, melody_on, voices, onsets = window_arrays(w.notes, config.steps)
            if (melody < 0).all() or (voices < 0).all():
                continue
            metre = metre_plane(config.steps, w.downbeats)
            for name, value in zip(names, (melody, melody_on, voices, onsets, metre, key)):
                rows[name].append(value)
    if not rows["melody"]:
        t, v = config.steps, len(VOICES)
        return Examples({"melody": torch.zeros((0, t), dtype=torch.int16),
                         "melody_onsets": torch.zeros((0, t), dtype=torch.bool),
                         "voices": torch.zeros((0, v, t), dtype=torch.int16),
                         "voice_onsets": torch.zeros((0, v, t), dtype=torch.bool),
                         "metre": torch.zeros((0, t)), "key": torch.zeros(0, dtype=torch.int64)})
    return Examples({name: torch.from_numpy(np.stack(values) if name != "key" else np.array(values, dtype=np.int64))
                     for name, values in rows.items()})


def random_transpose(batch: dict[str, torch.Tensor], config: GanConfig) -> dict[str, torch.Tensor]:
    """Move each window (melody and voices together) by a random shift within `config.transpose`
    semitones that keeps every note in range (torch's global generator, seeded per step by the loop)."""
    if config.transpose <= 0:
        return batch
    pitches = torch.cat([batch["melody"][:, None], batch["voices"]], dim=1).long()
    sounding = pitches >= 0
    big = torch.iinfo(torch.int64).max
    lowest = torch.where(sounding, pitches, big).flatten(1).min(dim=1).values
    highest = torch.where(sounding, pitches, -1).flatten(1).max(dim=1).values
    low = torch.clamp(config.low_pitch - lowest, min=-config.transpose, max=0)
    high = torch.clamp(config.high_pitch - highest, min=0, max=config.transpose)
    shift = low + (torch.rand(len(low)).to(low.device) * (high - low + 1)).long().clamp(max=high - low)
    shift = torch.where(sounding.flatten(1).any(dim=1), shift, 0)
    moved = torch.where(sounding, pitches + shift[:, None, None], -1)
    key = torch.where(batch["key"] >= 0, (batch["key"] % 12 + shift) % 12 + 12 * (batch["key"] // 12), -1)
    return {**batch, "melody": moved[:, 0], "voices": moved[:, 1:], "key": key}


def _net(model: nn.Module) -> GanNet:
    return model.module if hasattr(model, "module") else model


def make_optimizer(model: nn.Module, train_config) -> torch.optim.Optimizer:
    """Adam with DeepComposer's betas and a parameter group per network, so `train_step` steps each on
    its own and the checkpoint keeps both states (the training loop sets every group's learning rate)."""
    net = _net(model)
    return torch.optim.Adam([{"params": list(net.generator.parameters()), "name": "generator"},
                             {"params": list(net.critic.parameters()), "name": "critic"}],
                            lr=train_config.lr, betas=tuple(net.config.betas))


def train_step(model: nn.Module, batch: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
               train_config) -> tuple[torch.Tensor, dict[str, float]]:
    """One generator step after `n_critic` critic steps, each critic step on the batch in a fresh
    transposition with fresh noise. Returns the critic loss of the last critic step (the loop logs it as
    train/loss) and train/g_loss, c_loss, gp and w_distance."""
    net = _net(model)
    config = net.config
    critic_params = list(net.critic.parameters())
    metrics: dict[str, float] = {}
    c_value = torch.zeros(())
    for _ in range(config.n_critic):
        real_batch = random_transpose(batch, config)
        condition = condition_planes(real_batch["melody"], real_batch["melody_onsets"], real_batch["metre"], config)
        real = real_planes(real_batch["voices"], real_batch["voice_onsets"], config)
        with torch.no_grad():
            fake = fake_planes(net(condition, net.noise(len(real))), config.hard)
        c_value, metrics = critic_loss(net, condition, real, fake)
        optimizer.zero_grad(set_to_none=True)
        c_value.backward()
        optimizer.step()  # only the critic has gradients: Adam leaves the generator alone
    real_batch = random_transpose(batch, config)
    condition = condition_planes(real_batch["melody"], real_batch["melody_onsets"], real_batch["metre"], config)
    _set_requires_grad(net.critic, False)
    try:
        fake = fake_planes(net(condition, net.noise(len(condition))), config.hard)
        g_value = -net.critic(critic_input(condition, fake)).mean()
        optimizer.zero_grad(set_to_none=True)
        g_value.backward()
    finally:
        _set_requires_grad(net.critic, True)
    for p in critic_params:
        p.grad = None
    optimizer.step()
    return c_value.detach(), {**metrics, "g_loss": g_value.item()}


def loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Validation: the Wasserstein estimate E[C(real)] - E[C(fake)] (lower is better for the generator),
    g_loss, c_loss and gp; in eval mode also the music metrics of generated against real accompaniment."""
    net = _net(model)
    config = net.config
    condition = condition_planes(batch["melody"], batch["melody_onsets"], batch["metre"], config)
    real = real_planes(batch["voices"], batch["voice_onsets"], config)
    outputs = net(condition, net.noise(len(real)))
    fake = fake_planes(outputs, config.hard)
    _, metrics = critic_loss(net, condition, real, fake)
    value = torch.tensor(metrics["w_distance"])
    if not net.training:
        pitches, onsets = decode(outputs, config)
        metrics.update(music_metrics(batch, pitches, onsets))
    return value, metrics


# ---------------------------------------------------------------------------------------------
# Decoding and the music metrics of a batch


def decode(outputs: tuple[torch.Tensor, ...], config: GanConfig,
           threshold: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Generator outputs to (B, 3, steps) MIDI pitches (-1: rest) and onsets: the likeliest of the pitches
    and the rest at each step (a rest too where that pitch's probability is below `threshold`); a note
    begins where the pitch changes or its onset probability is over one half."""
    pitch_logits, rest_logits, onset_logits = outputs
    probs = voice_probabilities(pitch_logits, rest_logits)
    best, choice = probs.max(dim=-1)
    rest = (choice == config.n_pitches) | (best < threshold)
    pitches = torch.where(rest, -1, choice + config.low_pitch)
    onset_prob = torch.sigmoid(onset_logits).gather(-1, choice.clamp(max=config.n_pitches - 1)[..., None])[..., 0]
    changed = torch.ones_like(rest)
    changed[..., 1:] = pitches[..., 1:] != pitches[..., :-1]
    onsets = ~rest & (changed | (onset_prob > 0.5))
    return pitches.cpu().numpy().astype(np.int16), onsets.cpu().numpy()


def state_notes(pitch: np.ndarray, onset: np.ndarray) -> list[tuple[int, int, int]]:
    """(pitch, start, end) of a monophonic voice's steps: a note runs from an onset (or a pitch change
    after a rest or another pitch) while the pitch holds and no new onset comes."""
    notes = []
    start = None
    for t in range(len(pitch) + 1):
        p = int(pitch[t]) if t < len(pitch) else -1
        begins = p >= 0 and (t == 0 or onset[t] or p != pitch[t - 1])
        if start is not None and (p != pitch[start] or begins):
            notes.append((int(pitch[start]), start, t))
            start = None
        if begins:
            start = t
    return notes


def window_piece(melody: np.ndarray, melody_onsets: np.ndarray, voices: np.ndarray, voice_onsets: np.ndarray,
                 key: str = "", accompaniment_only: bool = False):
    """A Piece of one window (voice 0 the melody, 1..3 the accompaniment, 16 steps a bar) for the metrics."""
    from desktop_app.ml.data.piece import Piece

    rows = [] if accompaniment_only else [(0, p, s, e, 80) for p, s, e in state_notes(melody, melody_onsets)]
    for v in range(len(voices)):
        rows += [(v + 1, p, s, e, 80) for p, s, e in state_notes(voices[v], voice_onsets[v])]
    notes = np.array(sorted(rows, key=lambda r: (r[2], r[0], r[1])), dtype=np.int32).reshape(-1, 5)
    steps = len(melody)
    downbeats = np.arange(0, steps + 1, 4 * MODEL_STEPS_PER_BEAT, dtype=np.int32)
    return Piece(id="", name="window", source="gan", notes=notes, downbeats=downbeats, key=key,
                 voice_names=("soprano", *VOICES))


SAMPLE_METRICS = ("in_scale_ratio", "polyphony", "empty_bar_rate", "pitches_used", "voice_range_violations",
                  "parallel_fifths", "parallel_octaves")
# judged on the written voices alone; the others on all four voices
ACCOMPANIMENT_ONLY = {"in_scale_ratio", "empty_bar_rate", "pitches_used", "voice_range_violations"}


def music_metrics(batch: dict[str, torch.Tensor], pitches: np.ndarray, onsets: np.ndarray) -> dict[str, float]:
    """Means over a batch of SAMPLE_METRICS for the generated ("gen_") and real ("real_") accompaniment,
    each with the melody where a metric reads the whole texture (polyphony, ranges, parallels)."""
    from desktop_app.ml import metrics

    melody, melody_on = batch["melody"].numpy(), batch["melody_onsets"].numpy()
    real, real_on = batch["voices"].numpy(), batch["voice_onsets"].numpy()
    keys = batch["key"].numpy()
    out: dict[str, float] = {}
    for prefix, voices, voice_onsets in (("gen", pitches, onsets), ("real", real, real_on)):
        sums = dict.fromkeys(SAMPLE_METRICS, 0.0)
        counts = dict.fromkeys(SAMPLE_METRICS, 0)
        for i in range(len(melody)):
            key = key_name(int(keys[i]))
            whole = window_piece(melody[i], melody_on[i], voices[i], voice_onsets[i], key)
            alone = window_piece(melody[i], melody_on[i], voices[i], voice_onsets[i], key, accompaniment_only=True)
            for name in SAMPLE_METRICS:
                value = metrics.METRICS[name](alone if name in ACCOMPANIMENT_ONLY else whole)
                if np.isfinite(value):
                    sums[name] += value
                    counts[name] += 1
        out.update({f"{prefix}_{name}": sums[name] / counts[name] for name in SAMPLE_METRICS if counts[name]})
    return out


# ---------------------------------------------------------------------------------------------
# Generation on arrays


@torch.no_grad()
def harmonise_rolls(net: GanNet, melody: np.ndarray, onsets: np.ndarray, metre: np.ndarray, seed: int | None = None,
                    variety: float = 1.0, threshold: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Write the accompaniment of a batch of windows: (B, steps) melody pitches (-1 rest), onsets and
    metre in; (B, 3, steps) pitches (-1 rest) and onsets out. The same seed gives the same voices."""
    net = _net(net)
    net.eval()
    generator = torch.Generator().manual_seed(seed if seed is not None else int(torch.randint(2**62, (1,))))
    condition = condition_planes(torch.as_tensor(melody), torch.as_tensor(onsets),
                                 torch.as_tensor(metre, dtype=torch.float32), net.config)
    outputs = net(condition, net.noise(len(condition), generator, variety))
    return decode(outputs, net.config, threshold)


def preview_windows(pieces: list, config: GanConfig, count: int = 4) -> dict[str, np.ndarray]:
    """`count` windows spread over `pieces` (melody, melody_onsets, voices, voice_onsets, metre, key as
    arrays), for a strip of rolls generated from fixed noise while training."""
    examples = make_examples(pieces, config)
    if len(examples) == 0:
        return {}
    chosen = torch.linspace(0, len(examples) - 1, min(count, len(examples))).long()
    return {name: value.numpy() for name, value in examples.batch(chosen).items()}


# ---------------------------------------------------------------------------------------------
# Generation on songs: the Accompany panel's and the CLI's API


@dataclass
class _Melody:
    """A melody track on the model grid: pitch and onset per step from the song's first bar line (a
    bar before it when the melody opens with a pickup), and the downbeats in those steps."""

    pitch: np.ndarray
    onsets: np.ndarray
    downbeats: np.ndarray
    origin: int  # the step of the song where step 0 of the arrays lies
    end: int  # steps of the arrays the melody covers (its last note's end)
    velocity: int


def _melody(song, track_index: int) -> _Melody:
    from desktop_app.ml.data.convert import barline_ticks
    from desktop_app.music.timing import tick_to_step

    track = song.tracks[track_index]
    if not track.notes:
        raise ValueError(f"track {track_index + 1} ({track.name or 'unnamed'}) has no notes to harmonise")
    arr = track.note_array
    starts = tick_to_step(arr[:, 1], song.ppq)
    ends = np.maximum(tick_to_step(arr[:, 2], song.ppq), starts + 1)
    end = int(ends.max())
    lines = np.unique(tick_to_step(np.array(barline_ticks(song, int(arr[:, 2].max()))), song.ppq)).astype(np.int64)
    first = int(starts.min())
    origin = int(lines[0]) if len(lines) else 0
    if first < origin:  # a pickup: start a bar before the first barline
        origin -= int(lines[1] - lines[0]) if len(lines) > 1 else 4 * MODEL_STEPS_PER_BEAT
    origin = min(origin, first)
    n = end - origin
    rows = np.column_stack([np.zeros(len(arr), dtype=np.int64), arr[:, 0], starts - origin, ends - origin, arr[:, 3]])
    rows = rows[np.lexsort((rows[:, 1], rows[:, 2]))]
    pitch, onsets = voice_states(rows, n)
    return _Melody(pitch, onsets, lines - origin, origin, n, int(np.median(arr[:, 3])))


def _window_starts(melody: _Melody, steps: int) -> list[int]:
    """Window starts on barlines about half a window apart, the last reaching the melody's end."""
    lines = [int(x) for x in melody.downbeats if 0 <= x < melody.end]
    lines = sorted({0, *lines})
    if melody.end <= steps:
        return [0]
    starts = [0]
    while starts[-1] + steps < melody.end:
        want = starts[-1] + steps // 2
        later = [x for x in lines if starts[-1] < x <= want]
        starts.append(later[-1] if later else want)
    return starts


def _cut(prev: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray], lo: int, hi: int) -> int:
    """Where to switch from the previous window's voice to the next one's inside [lo, hi): the step
    nearest the middle where the two agree on the pitch and the next holds no onset there (seamless),
    else the one nearest the middle where the next window begins a note or rests, else the middle."""
    middle = (lo + hi) // 2
    order = sorted(range(lo, hi), key=lambda t: (abs(t - middle), t))
    (p_pitch, _), (n_pitch, n_onset) = prev, new
    for t in order:
        if p_pitch[t] == n_pitch[t] and not n_onset[t]:
            return t
    for t in order:
        if n_onset[t] or n_pitch[t] < 0:
            return t
    return middle


def _join(parts: list[tuple[int, np.ndarray, np.ndarray]], length: int) -> tuple[np.ndarray, np.ndarray]:
    """One voice from overlapping windows (start, pitch, onsets): the first window up to each cut, the
    next from there. At a cut where the pitch goes on, the note goes on (no new onset)."""
    pitch = np.full(length, -1, dtype=np.int16)
    onset = np.zeros(length, dtype=bool)
    covered = 0
    for start, w_pitch, w_onset in parts:
        stop = min(start + len(w_pitch), length)
        cut = start
        if covered > start:
            prev = (pitch, onset)
            new = (np.full(length, -1, dtype=np.int16), np.zeros(length, dtype=bool))
            new[0][start:stop], new[1][start:stop] = w_pitch[:stop - start], w_onset[:stop - start]
            cut = _cut(prev, new, start, min(covered, stop))
        pitch[cut:stop] = w_pitch[cut - start:stop - start]
        onset[cut:stop] = w_onset[cut - start:stop - start]
        if 0 < cut < length and pitch[cut] >= 0 and pitch[cut] != pitch[cut - 1]:
            onset[cut] = True
        covered = stop
    return pitch, onset & (pitch >= 0)


def _free_channels(song, count: int) -> list[int]:
    used = {t.channel for t in song.tracks}
    free = [c for c in range(16) if c != 9 and c not in used]
    return (free + [c for c in range(16) if c != 9])[:count]


def accompany(net: nn.Module, config: GanConfig, song, melody_track: int, voices: Sequence[str] = VOICES,
              seed: int | None = None, variety: float = 1.0, variations: int = 1,
              threshold: float = 0.0) -> list[tuple]:
    """Harmonise track `melody_track` (counted from 0) of `song`: one take per variation, each a tuple
    of new Tracks for `voices` (in VOICES order). The song is not changed. See the module docstring."""
    from desktop_app.music.note import Note
    from desktop_app.music.timing import step_to_tick
    from desktop_app.music.track import Track

    if not 0 <= melody_track < len(song.tracks):
        raise ValueError(f"the song has {len(song.tracks)} tracks; track {melody_track + 1} is not one of them")
    unknown = [v for v in voices if v not in VOICES]
    if unknown or not voices:
        raise ValueError(f"voices {list(voices)}: choose from {', '.join(VOICES)}")
    if variations < 1 or variety < 0:
        raise ValueError("variations must be at least 1 and variety at least 0")
    config = _net(net).config
    melody = _melody(song, melody_track)
    steps = config.steps
    starts = _window_starts(melody, steps)
    m_pitch = np.concatenate([melody.pitch, np.full(steps, -1, dtype=np.int16)])
    m_onset = np.concatenate([melody.onsets, np.zeros(steps, dtype=bool)])
    window_pitch = np.stack([m_pitch[s:s + steps] for s in starts])
    window_onset = np.stack([m_onset[s:s + steps] for s in starts])
    window_metre = np.stack([metre_plane(steps, melody.downbeats - s) for s in starts])
    first_seed = seed if seed is not None else int(np.random.default_rng().integers(2**62))
    channels = _free_channels(song, len(voices))
    takes = []
    for r in range(variations):
        pitches, onsets = harmonise_rolls(net, window_pitch, window_onset, window_metre, first_seed + r, variety,
                                          threshold)
        tracks = []
        for v, name in enumerate(VOICES):
            if name not in voices:
                continue
            parts = [(s, pitches[k, v], onsets[k, v]) for k, s in enumerate(starts)]
            pitch, onset = _join(parts, melody.end)
            notes = []
            for p, a, b in state_notes(pitch, onset):
                t0, t1 = (int(x) for x in step_to_tick(np.array([a + melody.origin, b + melody.origin]), song.ppq))
                if t0 >= 0:
                    notes.append(Note(int(p), t0, max(t1 - t0, 1), melody.velocity))
            title, program = TRACK_STYLE[name]
            tracks.append(Track(name=title, program=program, channel=channels[len(tracks)], notes=tuple(notes)))
        takes.append(tuple(tracks))
    return takes


def with_accompaniment(song, take: Sequence) -> object:
    """`song` with a take's tracks added after its own (every existing track is the very same object)."""
    return song.with_tracks((*song.tracks, *take))


def evaluate_samples(net: GanNet, config: GanConfig, pieces: list, seed: int = 0, max_windows: int | None = None,
                     progress=None) -> dict:
    """Harmonise the test windows' melodies and compare with their real voices (see gan_eval)."""
    from desktop_app.ml.models.gan_eval import evaluate_samples as run

    return run(net, config, pieces, seed, max_windows, progress)


# ---------------------------------------------------------------------------------------------
# The training panel's strip of rolls (added by the Accompany-panel helper; the loop calls it at each evaluation)

PREVIEW_WINDOWS = 4  # fixed validation windows drawn at each evaluation
PREVIEW_SEED = 1234  # the fixed noise they are written with
PREVIEW_ONSET = 4  # added to a cell's voice code where a note begins


def preview(model: nn.Module, examples: Examples, count: int = PREVIEW_WINDOWS) -> np.ndarray:
    """What the generator writes now under `count` fixed windows of `examples` (spread over the set, as
    `preview_windows`) from fixed noise: (count, n_pitches, steps) uint8 rolls, row 0 the lowest pitch, each
    cell 0 (silent), 1 melody, 2 alto, 3 tenor, 4 bass, plus PREVIEW_ONSET where a note begins. The
    network's train/eval mode is left as it was."""
    net = _net(model)
    config = net.config
    if len(examples) == 0:
        return np.zeros((0, config.n_pitches, config.steps), dtype=np.uint8)
    chosen = torch.linspace(0, len(examples) - 1, min(count, len(examples))).long()
    batch = examples.batch(chosen)
    was_training = net.training
    try:
        pitches, onsets = harmonise_rolls(net, batch["melody"].cpu().numpy(), batch["melody_onsets"].cpu().numpy(),
                                          batch["metre"].cpu().numpy(), seed=PREVIEW_SEED)
    finally:
        net.train(was_training)
    melody, melody_on = batch["melody"].cpu().numpy(), batch["melody_onsets"].cpu().numpy()
    rolls = np.zeros((len(melody), config.n_pitches, config.steps), dtype=np.uint8)
    steps = np.arange(config.steps)
    for i in range(len(melody)):  # the bass first, the melody last: the upper voice shows where they meet
        for code, pitch, onset in [(v + 2, pitches[i, v], onsets[i, v]) for v in reversed(range(len(VOICES)))] + \
                [(1, melody[i], melody_on[i])]:
            rows = pitch.astype(np.int64) - config.low_pitch
            inside = (pitch >= 0) & (rows >= 0) & (rows < config.n_pitches)
            rolls[i, rows[inside], steps[inside]] = code + PREVIEW_ONSET * onset[inside].astype(np.uint8)
    return rolls
