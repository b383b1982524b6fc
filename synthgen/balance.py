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


def balance_weights(real: dict[str, int], classes: list[str], target, synthetic_objects: float) -> dict[str, float]:
    """Weights proportional to each class's shortfall against the target, for ``classes``
    (those that can be pasted). Classes already at or above their share get weight 0."""
    shares = target_shares(target, classes)
    total = sum(real.get(c, 0) for c in classes) + synthetic_objects
    deficit = {c: max(0.0, shares[c] * total - real.get(c, 0)) for c in classes}
    s = sum(deficit.values())
    if s <= 0:
        return dict(shares)
    return {c: d / s for c, d in deficit.items()}


def report_lines(real: dict[str, int], weights: dict[str, float], synthetic_objects: float) -> list[str]:
    lines = [f"{'class':<16}{'real':>8}{'+synthetic':>12}{'combined':>10}{'share':>8}"]
    after = {c: real.get(c, 0) + weights.get(c, 0.0) * synthetic_objects for c in sorted(set(real) | set(weights))}
    total = sum(after.values()) or 1
    for c, n in after.items():
        lines.append(f"{c:<16}{real.get(c, 0):>8}{weights.get(c, 0.0) * synthetic_objects:>12.0f}{n:>10.0f}{n / total:>8.1%}")
    return lines
