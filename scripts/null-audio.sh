# Sourced by scripts/test: give PortAudio a real-time-paced output device with no sound card,
# a PulseAudio null sink in a private runtime folder (recipe in shared/DESIGN.md, "Sound").
# Exports XDG_RUNTIME_DIR so the tests' PortAudio finds this server; harmless when it fails.
start_null_audio() {
  command -v pulseaudio >/dev/null || { echo "test: pulseaudio is not installed; audio device tests will skip" >&2; return 0; }
  export XDG_RUNTIME_DIR="${DESKTOP_APP_AUDIO_RUNTIME:-/tmp/desktop-app-pulse-$(id -u)}"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  if pactl info >/dev/null 2>&1; then
    return 0
  fi
  pulseaudio --daemonize=yes --exit-idle-time=-1 --disallow-exit -n \
    --load="module-null-sink sink_name=null_sink rate=48000" \
    --load="module-always-sink" \
    --load="module-native-protocol-unix" >/dev/null 2>&1 || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pactl info >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  echo "test: could not start a PulseAudio null sink; audio device tests will skip" >&2
}
