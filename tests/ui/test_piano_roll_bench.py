"""`desktop-app bench pianoroll` runs end to end on a small song and reports every kind of frame
against the QGraphicsScene roll timed in the same run, with what each frame is."""

from __future__ import annotations

from desktop_app.bench import pianoroll_bench


def test_the_bench_reports_every_frame_kind_against_the_scene(qapp):
    result = pianoroll_bench.run(n_notes=1200, frames=3, width=640, height=400)
    assert set(result["frames"]) >= {"frame", *pianoroll_bench.KINDS}
    for zoom in ("zoomed_out", "zoomed_in"):
        assert result[zoom]["visible_notes"] > 0
        for kind in pianoroll_bench.KINDS:
            frame = result[zoom][kind]
            assert frame["frames"] == 3 and frame["qgraphicsscene"]["frames"] == 3
            assert frame["times_faster"] > 0 and frame["median_ms"] > 0
    assert set(result["zoomed_in_over_zoomed_out"]) == set(pianoroll_bench.KINDS)
    drag = result["drag_500"]
    assert f"{drag['selected']} notes" in drag["committed"]  # one undo step for the whole drag
