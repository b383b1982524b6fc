"""Keypoint labels: each point through exactly the transforms its object's pixels went through,
and its visibility from the final id map.

A point of a cutout goes through the cutout's placement matrix (scale, flip, rotation,
perspective; on a flip the left/right names swap, so a mirrored person's left hand is the one
on the left of the picture), then through every whole-image geometric effect's matrix, then
through the albumentations pipeline as a keypoint (every point kept, in order; when the
pipeline mirrors the image the left/right names swap again).

An object of a real scene (``assets.scenes``, a COCO keypoints dataset) keeps its annotated
points: each labeled one (v > 0) goes through the background's crop, resize and flip (names
swapped on the flip) and the same effects, matched to the class schema by name; its visibility
then comes from the final id map like any other, so a pasted object over it makes it 1.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from synthgen.assets import AssetLibrary
from synthgen.effects.pipeline import AppliedEffect, geometric_matrices
from synthgen.frame import Frame
from synthgen.keypoints import PoseLayout, apply_matrix
from synthgen.lines import background_matrix, through
from synthgen.scene import cutout_matrix
from synthgen.types import Instance, Scene


def visibility(x: float, y: float, id_map: np.ndarray, instance_id: int) -> int:
    """COCO v of a point at COCO pixel coordinates (x, y): 0 outside the frame (or unlabeled),
    2 when the id map carries ``instance_id`` at its pixel or one of the 8 around it (a point
    on the object's own edge), 1 when it is in frame but covered."""
    H, W = id_map.shape
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x < W and 0 <= y < H):
        return 0
    c, r = int(x), int(y)
    window = id_map[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
    return 2 if bool((window == instance_id).any()) else 1


def point_values(points: np.ndarray, id_map: np.ndarray, instance_id: int, inside: np.ndarray | None = None) -> tuple[float, ...]:
    """Flat x, y, v from (n, 2) pixel-index points; a point with v = 0 is written 0, 0, 0.
    ``inside``: where an albumentations pipeline left image; a covered point elsewhere (in its
    fill, where the image shows nothing) gets 0."""
    out: list[float] = []
    for x, y in points + 0.5:  # pixel index -> COCO pixel coordinates
        v = visibility(float(x), float(y), id_map, instance_id)
        if v == 1 and inside is not None and not inside[int(y), int(x)]:
            v = 0
        out += [round(float(x), 3), round(float(y), 3), v] if v else [0, 0, 0]
    return tuple(out)


def scene_points(scene: Scene, library: AssetLibrary, instance_id: int, image_effects: tuple[AppliedEffect, ...]) -> np.ndarray | None:
    """(n, 2) pixel-index points of one pasted instance in the final frame, NaN where
    unlabeled; None when its class has no schema."""
    p = next((q for q in scene.placements if q.instance_id == instance_id), None)
    schema = library.keypoint_schemas.get(p.label) if p is not None else None
    if schema is None:
        return None
    cut = library.cutout(p.asset)
    if cut.keypoints is None:
        return np.full((len(schema.names), 2), np.nan)
    pts = apply_matrix(cut.keypoints, cutout_matrix(cut, p, scene.canvas_wh))
    if p.flip:
        pts = pts[list(schema.flip)]
    for m in geometric_matrices(image_effects, scene.canvas_wh):
        pts = apply_matrix(pts, m)
    return pts


def real_points(scene: Scene, library: AssetLibrary, instance_id: int, image_effects: tuple[AppliedEffect, ...]) -> np.ndarray | None:
    """(n, 2) pixel-index points of one object of a real scene in the final frame, in its class
    schema's order, NaN where its annotation has no labeled point of that name; None when its
    class has no schema or the scene is not a real one."""
    label = next((r for r in scene.real if r.instance_id == instance_id), None)
    bg = scene.background
    schema = library.keypoint_schemas.get(label.label) if label is not None else None
    if schema is None or not bg.real_scene or library.scenes is None:
        return None
    pts = np.full((len(schema.names), 2), np.nan)
    inst = next((i for i in library.scenes.images[bg.index].instances if i.ann_id == label.annotation_id), None)
    cat = library.scenes.keypoints.get(label.label)
    if inst is None or inst.keypoints is None or cat is None or label.kind != "object":  # crowd/box: no points
        return pts
    for name, (x, y, v) in zip(cat.names, inst.keypoints):
        if v > 0 and name in schema.names:
            pts[schema.names.index(name)] = (x, y)
    # COCO coordinates of the scene image -> the canvas (continuous) -> pixel-index coordinates
    pts = through(pts, background_matrix(bg.crop_xywh, bg.flip, scene.canvas_wh)) - 0.5
    if bg.flip:
        pts = pts[list(schema.flip)]
    for m in geometric_matrices(image_effects, scene.canvas_wh):
        pts = apply_matrix(pts, m)
    return pts


def _instance_points(scene: Scene, library: AssetLibrary, image_effects: tuple[AppliedEffect, ...]) -> dict[int, np.ndarray]:
    """instance id -> points in the final frame (before an albumentations pipeline), for every
    pasted object and object of a real scene whose class has a schema."""
    out = {}
    for r in scene.real:
        if r.kind == "object" and r.label in library.keypoint_schemas:
            pts = real_points(scene, library, r.instance_id, image_effects)
            if pts is not None:
                out[r.instance_id] = pts
    for p in scene.placements:
        if p.label in library.keypoint_schemas:
            pts = scene_points(scene, library, p.instance_id, image_effects)
            if pts is not None:
                out[p.instance_id] = pts
    return out


def through_albumentations(albu, frame: Frame, seeds: dict[str, int], scene: Scene, library: AssetLibrary,
                           image_effects: tuple[AppliedEffect, ...], keypoints: bool = True,
                           lines: list[tuple[str, np.ndarray]] | None = None,
                           ) -> tuple[Frame, dict, dict[int, np.ndarray], list[tuple[str, np.ndarray]] | None]:
    """The albumentations pipeline (effects/albu, built with keypoints) applied to the frame, to
    the points of every instance with a schema (``keypoints``) and to ``lines`` ((class, (n, 2)
    continuous polyline) pairs, lines.dense_lines), all in one call: the frame, the pipeline's
    record, instance id -> its (n, 2) points after it (names swapped when the pipeline
    mirrored), and the lines after it (None without ``lines``)."""
    before = _instance_points(scene, library, image_effects) if keypoints else {}
    ids = list(before)
    # lines are continuous coordinates; the pipeline's keypoints are pixel-index ones
    line_pts = [pts - 0.5 for _, pts in lines or ()]
    stacked = np.vstack([before[i] for i in ids] + line_pts) if ids or line_pts else np.zeros((0, 2))
    frame, record, moved, mirrored = albu.apply_with_points(frame, seeds, stacked)
    moved_lines = None
    if lines is not None:
        moved_lines, k = [], sum(len(before[i]) for i in ids)
        for (label, pts) in lines:
            moved_lines.append((label, moved[k : k + len(pts)] + 0.5))
            k += len(pts)
    out, k = {}, 0
    for i in ids:
        n = len(before[i])
        pts = moved[k : k + n]
        k += n
        if mirrored:
            label = next(p.label for p in (*scene.placements, *scene.real) if p.instance_id == i)
            pts = pts[list(library.keypoint_schemas[label].flip)]
        out[i] = pts
    return frame, record, out, moved_lines


def derive_keypoints(
    scene: Scene,
    library: AssetLibrary,
    image_effects: tuple[AppliedEffect, ...],
    id_map: np.ndarray,
    instances: tuple[Instance, ...],
    layout: PoseLayout,
    moved: dict[int, np.ndarray] | None = None,
    inside: np.ndarray | None = None,
) -> tuple[Instance, ...]:
    """The instances with their keypoints: every instance of a class with a schema gets one
    x, y, v per name (an object of a real scene: its annotated points, all 0 when it has none).
    ``moved``: the points after an albumentations pipeline (:func:`through_albumentations`),
    ``inside`` where it left image (:func:`point_values`)."""
    out = []
    for inst in instances:
        schema = library.keypoint_schemas.get(inst.label)
        if schema is None:
            out.append(inst)
            continue
        if moved is not None:
            pts = moved.get(inst.instance_id)
        elif inst.source == "pasted":
            pts = scene_points(scene, library, inst.instance_id, image_effects)
        elif inst.source == "real":
            pts = real_points(scene, library, inst.instance_id, image_effects)
        else:
            pts = None
        if pts is None:
            pts = np.full((len(schema.names), 2), np.nan)
        values = point_values(pts, id_map, inst.instance_id, inside)
        out.append(dataclasses.replace(inst, keypoints=values, keypoint_slot=layout.offsets[inst.label]))
    return tuple(out)
