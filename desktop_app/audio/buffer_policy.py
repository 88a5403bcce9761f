"""When output underflows (xruns) or near misses (stream.NEAR_MISS_SHARE) repeat, the audio
buffer goes up one step: `threshold` of them within `window` seconds double the blocksize (256 -> 512 -> 1024 -> 2048), never past
`cap`. Pure and clock-free (the caller passes the time), so it is tested with synthetic reports;
the real-time stream follows it (AudioOutput.adapt)."""

from __future__ import annotations

from collections import deque

BLOCKSIZE_CAP = 2048  # about 43 ms at 48 kHz: the most a player should wait for a clicked key
UNDERFLOW_THRESHOLD = 2  # one underflow can be a one-off hiccup; a second soon after is a pattern
UNDERFLOW_WINDOW_SECONDS = 10.0
SETTLE_SECONDS = 3.0  # a new PulseAudio stream may underflow while it starts: that is not load


class BufferPolicy:
    """Decides when the stream should reopen with a larger buffer, from its running underflow
    count. Underflows in the first `settle` seconds after a (re)open are start-up, not load."""

    def __init__(self, blocksize: int, *, threshold: int = UNDERFLOW_THRESHOLD,
                 window: float = UNDERFLOW_WINDOW_SECONDS, cap: int = BLOCKSIZE_CAP,
                 settle: float = SETTLE_SECONDS) -> None:
        if threshold < 1 or window <= 0 or blocksize < 1:
            raise ValueError("threshold and blocksize must be at least 1 and window positive")
        self.blocksize = blocksize
        self.threshold = threshold
        self.window = window
        self.cap = max(cap, blocksize)
        self.settle = settle
        self._seen = 0  # the underflow total already accounted for
        self._times: deque[float] = deque()  # when each recent underflow was reported
        self._settled_at = float("-inf")

    @property
    def at_cap(self) -> bool:
        return self.blocksize >= self.cap

    def opened(self, blocksize: int, total: int, now: float) -> None:
        """The stream (re)opened at `blocksize` with `total` underflows counted so far."""
        self.blocksize = blocksize
        self._seen = total
        self._times.clear()
        self._settled_at = now + self.settle

    def report(self, total: int, now: float) -> int | None:
        """Take the stream's running underflow count at time `now` (seconds); return the larger
        blocksize to reopen with when underflows repeat, else None."""
        new = total - self._seen
        self._seen = total
        if new <= 0 or now < self._settled_at or self.at_cap:
            return None
        self._times.extend([now] * new)
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        if len(self._times) < self.threshold:
            return None
        self._times.clear()
        return min(self.blocksize * 2, self.cap)
