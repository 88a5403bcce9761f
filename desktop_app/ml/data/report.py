"""Dataset statistics and the dataset list as short text for the terminal (`desktop-app dataset`)."""

from __future__ import annotations


def stats_text(stats: dict) -> str:
    """A few lines: counts, splits, summaries, duplicates and outliers of `dataset_stats` output."""
    lines = [
        f"{stats['name']}: {stats['pieces']} pieces ({stats['pieces_found']} found, {stats['excluded']} excluded, "
        f"{stats['unreadable']} unreadable), {stats['notes']} notes, {stats['bars']} bars, {stats['hours']:.2f} hours",
        "splits: " + ", ".join(f"{name} {s['pieces']} pieces / {s['notes']} notes" for name, s in stats["splits"].items()),
    ]
    for name, summary in stats["summary"].items():
        if summary.get("count"):
            lines.append(f"  {name:<15} mean {summary['mean']:8.2f}  std {summary['std']:7.2f}  "
                         f"IQR {summary['q1']:g}-{summary['q3']:g}  range {summary['min']:g}-{summary['max']:g}")
    keys = stats["histograms"]["key"]
    lines.append("keys: " + ", ".join(f"{k} {c}" for k, c in list(zip(keys["bins"], keys["counts"]))[:12]))
    if stats["duplicates"]:
        lines.append(f"duplicates ({len(stats['duplicates'])} groups, kept in one split): "
                     + "; ".join(" = ".join(group) for group in stats["duplicates"][:10]))
    near = [g for g in stats["kept_together"] if g not in stats["duplicates"]]
    if near:
        lines.append(f"kept in one split for a shared line ({len(near)} groups): "
                     + "; ".join(" ~ ".join(group) for group in near[:10]))
    for outlier in stats["outliers"]:
        mark = "excluded" if outlier["excluded"] else "kept"
        lines.append(f"  outlier ({mark}) {outlier['name']}: {'; '.join(outlier['reasons'])}")
    return "\n".join(lines)


def list_text(rows: list[dict[str, str]]) -> str:
    """One line per dataset: name, kind, folder or description."""
    width = max(len(r["name"]) for r in rows) + 2
    return "\n".join(f"{r['name']:<{width}}{r['kind']:<10}{r.get('folder') or r.get('description', '')}" for r in rows)
