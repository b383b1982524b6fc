"""The dataset I/O layer: one module per format, used by every tool that reads or writes files.

    files      atomic writes (a temporary name, then a rename: nothing half-written looks whole)
    manifest   a run's manifest.json and its plan of shards

Lower layers (config, scene, render, effects, labels) never import from here; writers, the
runner and the tools do.
"""
