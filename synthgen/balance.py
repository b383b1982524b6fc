"""Class balancing: pasted-class weights that bring real + synthetic towards a target mix."""

from __future__ import annotations

from pathlib import Path

from synthgen.errors import ConfigError


def count_classes(path: Path) -> dict[str, int]:
    """Instances per class name of a COCO annotations file or a YOLO dataset folder (no crowd)."""
    from synthgen.errors import AssetError
    from synthgen.io.coco import read_coco
    from synthgen.io.issues import raise_first
    from synthgen.io.real import load_yolo

    path = Path(path)
    try:
        if path.is_dir():
            return load_yolo(path).class_counts()
        coco = read_coco(path)
        raise_first([i for i in coco.issues if i.kind in ("format", "unknown_category")])
    except AssetError as exc:
        raise ConfigError(f"scene.balance.real: cannot count classes in {path} ({exc})") from exc
    counts = {n: 0 for n in coco.categories.values()}
    for anns in coco.annotations.values():
        for a in anns:
            if not a.get("iscrowd", 0):
                counts[coco.categories[a["category_id"]]] += 1
    return counts


def target_shares(target: str | dict[str, float], classes: list[str]) -> dict[str, float]:
    if target == "uniform":
        return {c: 1.0 / len(classes) for c in classes}
    unknown = sorted(set(target) - set(classes))
    if unknown:
        raise ConfigError(f"scene.balance.target: {unknown} are not classes of this run; allowed: {', '.join(classes)}")
    total = sum(target.values())
    if total <= 0:
        raise ConfigError("scene.balance.target: weights must not all be 0")
    return {c: target.get(c, 0.0) / total for c in classes}


def carried_objects(scene_counts: dict[str, int], scene_images: int, synthetic_images: int, p: float) -> dict[str, float]:
    """Real objects the synthetic images will carry: a share ``p`` of them is made on a real
    scene, drawn uniformly from ``scene_images`` images holding ``scene_counts`` objects."""
    if scene_images <= 0 or p <= 0:
        return {}
    return {c: synthetic_images * p * n / scene_images for c, n in scene_counts.items()}


def balance_weights(
    real: dict[str, int], classes: list[str], target, synthetic_objects: float, carried: dict[str, float] | None = None
) -> dict[str, float]:
    """Weights proportional to each class's shortfall against the target, for ``classes``
    (those that can be pasted). The base is the real data plus the real objects the synthetic
    images carry on their real scenes (``carried``), as `combine --balance` counts them.
    Classes already at or above their share get weight 0."""
    carried = carried or {}
    shares = target_shares(target, classes)
    base = {c: real.get(c, 0) + carried.get(c, 0.0) for c in classes}
    total = sum(base.values()) + synthetic_objects
    deficit = {c: max(0.0, shares[c] * total - base[c]) for c in classes}
    s = sum(deficit.values())
    if s <= 0:
        return dict(shares)
    return {c: d / s for c, d in deficit.items()}


def report_lines(
    real: dict[str, int], weights: dict[str, float], synthetic_objects: float, carried: dict[str, float] | None = None
) -> list[str]:
    """The expected counts, in the columns `combine --balance` prints: real, carried by the
    synthetic images' real scenes, pasted, combined, share."""
    carried = carried or {}
    lines = [f"{'class':<16}{'real':>8}{'+carried':>10}{'+pasted':>10}{'combined':>10}{'share':>8}"]
    names = sorted(set(real) | set(weights) | set(carried))
    pasted = {c: weights.get(c, 0.0) * synthetic_objects for c in names}
    after = {c: real.get(c, 0) + carried.get(c, 0.0) + pasted[c] for c in names}
    total = sum(after.values()) or 1
    for c in names:
        lines.append(f"{c:<16}{real.get(c, 0):>8}{carried.get(c, 0.0):>10.0f}{pasted[c]:>10.0f}{after[c]:>10.0f}{after[c] / total:>8.1%}")
    return lines
