"""The dataset I/O layer: one module per format, used by every tool that reads or writes files.

    files      atomic writes (a temporary name, then a rename: nothing half-written looks whole)
    manifest   a run's manifest.json and its plan of shards
    outdir     what a run may do in its output folder: never write into an input, remove only its own files
    lock       one run per output folder (flock), --shard parts sharing it and claiming shards

Lower layers (config, scene, render, effects, labels) never import from here; writers, the
runner and the tools do.
"""
