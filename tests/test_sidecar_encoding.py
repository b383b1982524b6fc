"""A user's asset sidecars (X.labels.json, keypoints.yaml, <cutout>.keypoints.json, X.lines.json)
are read as UTF-8 with or without a byte order mark (Windows tools write one): a BOM was refused
as 'Unexpected UTF-8 BOM'. Text that is not UTF-8 is still refused, naming the file."""

from __future__ import annotations

import pytest

from synthgen.errors import AssetError
from synthgen.keypoints import load_points, load_schema
from synthgen.lines import load_lines
from synthgen.stuff import read_names

BOM = b"\xef\xbb\xbf"
SCHEMA = "names: [left, right]\nskeleton: [[left, right]]\nflip: [[left, right]]\n"


def _write(tmp_path, name, text, prefix=b"", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(prefix + text.encode(encoding))
    return p


@pytest.mark.parametrize("prefix", [b"", BOM])
def test_sidecars_are_read_with_or_without_a_bom(tmp_path, prefix):
    assert read_names(_write(tmp_path, "a.labels.json", '{"classes": {"1": "route é"}}', prefix)) == {1: "route é"}
    schema = load_schema(_write(tmp_path, "keypoints.yaml", SCHEMA, prefix))
    assert schema.names == ("left", "right")
    pts = load_points(_write(tmp_path, "c.keypoints.json", '{"left": [1, 2], "right": [3, 4]}', prefix), schema, "thing", (10, 10))
    assert pts.tolist() == [[1, 2], [3, 4]]
    lines = load_lines(_write(tmp_path, "b.lines.json", '{"lines": [{"class": "lane_solid", "points": [[1, 1], [5, 5]]}]}', prefix), (10, 10))
    assert len(lines) == 1


def test_a_sidecar_that_is_not_utf8_is_refused_naming_the_file(tmp_path):
    latin = dict(prefix=b"", encoding="latin-1")
    for name, text, read in [
        ("a.labels.json", '{"classes": {"1": "route é"}}', read_names),
        ("keypoints.yaml", "names: [gauche, droite é]\n", load_schema),
        ("b.lines.json", '{"lines": [], "note": "é"}', lambda p: load_lines(p, (10, 10))),
    ]:
        p = _write(tmp_path, name, text, **latin)
        with pytest.raises(AssetError, match=rf"{p.name}.*not UTF-8"):
            read(p)
    schema = load_schema(_write(tmp_path, "keypoints.yaml", SCHEMA))
    p = _write(tmp_path, "c.keypoints.json", '{"left": [1, 2], "é": [3, 4]}', **latin)
    with pytest.raises(AssetError, match=rf"{p.name}.*not UTF-8"):
        load_points(p, schema, "thing", (10, 10))


def test_a_config_and_a_coco_file_are_read_as_utf8_whatever_the_locale(tmp_path):
    from synthgen.config import load_config
    from synthgen.errors import ConfigError
    from synthgen.io.coco import load_json

    # read as bytes and decoded as UTF-8 (a Windows code page as the locale would otherwise
    # decode them): a BOM is dropped, anything else is refused naming the file and the byte
    cfg = tmp_path / "café.yaml"
    cfg.write_bytes(b"\xef\xbb\xbf# caf\xc3\xa9\nextends: default.yaml\nseed: 11\n")  # BOM, then UTF-8
    assert load_config(cfg).seed == 11
    cfg.write_bytes(b"extends: default.yaml\nseed: 11\n# caf\xe9\n")  # Latin-1, not UTF-8
    with pytest.raises(ConfigError, match=r"café.yaml is not UTF-8 text \(byte 0xe9"):
        load_config(cfg)
    coco = tmp_path / "a.json"
    coco.write_bytes('\ufeff{"categories": [{"id": 1, "name": "caf\u00e9"}]}'.encode("utf-8"))
    assert load_json(coco)["categories"][0]["name"] == "café"
