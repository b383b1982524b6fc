"""Class and keypoint names as a user types them: a labels.json name with surrounding spaces
("road " beside "road") made two classes, and keypoints.yaml took an empty point name and a
skeleton edge from a point to itself. Each is refused naming the file and the entry."""

from __future__ import annotations

import pytest

from synthgen.errors import AssetError
from synthgen.keypoints import load_schema
from synthgen.stuff import read_names


@pytest.mark.parametrize("name", ["road ", " road", "road\t", "\nroad"])
def test_a_class_name_with_surrounding_whitespace_is_refused(tmp_path, name):
    p = tmp_path / "a.labels.json"
    p.write_text('{"classes": {"1": "sky", "2": %s}}' % __import__("json").dumps(name))
    with pytest.raises(AssetError, match=r"a\.labels\.json: classes\['2'\] = .*surrounding whitespace"):
        read_names(p)


@pytest.mark.parametrize("text, says", [
    ('names: [left, ""]\n', r"names\[1\] = '' is not a keypoint name"),
    ('names: [left, "  "]\n', r"names\[1\] = '  ' is not a keypoint name"),
    ('names: [left, "right "]\n', r"names\[1\] = 'right ' .*surrounding whitespace"),
    ("names: [left, right]\nskeleton: [[left, right], [left, left]]\n", r"skeleton\[1\] joins 'left' to itself"),
])
def test_a_bad_keypoint_name_or_self_loop_is_refused(tmp_path, text, says):
    p = tmp_path / "keypoints.yaml"
    p.write_text(text)
    with pytest.raises(AssetError, match=r"keypoints\.yaml: " + says):
        load_schema(p)
