"""The dataset I/O layer: one module per format, used by every tool that reads or writes files.

    paths       the one containment rule: a path a dataset file names stays inside its folder
                (symlinks resolved), else an issue naming the file and id
    files       atomic writes (a temporary name, then a rename: nothing half-written looks whole)
    manifest    a run's manifest.json and its plan of shards
    rle         COCO masks: encode (also from a region of interest), decode, and check a
                segmentation before pycocotools sees it (a leaf: numpy and pycocotools only)
    images      the image extensions, the one EXIF policy (images as displayed) and the pixel
                limit (checked on the header, before decoding)
    text        a user's text sidecar read as UTF-8, with or without a byte order mark
    issues      what a reader found wrong: kind, where (file and id), message
    coco        COCO files and a run's shard fragments, indexed by image, tolerant
    yolo        YOLO datasets by Ultralytics' layout rules (data.yaml, /images/ -> /labels/)
    webdataset  synthgen's WebDataset tars, streamed sample by sample
    layout      which of these a path holds
    real        real labeled datasets as images with instances (extract, real scenes, balance),
                every image, path and annotation checked when loaded
    outdir      what a run may do in its output folder: never write into an input, remove only
                its own files
    lock        one run per output folder (flock), --shard parts sharing it and claiming shards

``rle`` is a leaf the label stage may use, and ``images`` depends on nothing but ``errors``
(the asset library reads cutouts and backgrounds with it); the rest sits above the generator
core, which never imports it. Tools (``synthgen.tools``) and writers sit above this layer.
"""
