"""The tools around the generator, each behind a ``synthgen`` command; all read datasets
through ``synthgen.io``.

    validate   checking a dataset's files and labels, one checker per format
    report     one self-contained HTML report of a dataset
    split      a real dataset into train and val parts, before anything is made from it
    combine    several datasets (COCO or YOLO, real or synthetic) into one COCO dataset, refusing
               a validation image that fed the synthetic part
    extract    a real dataset's objects into cutouts
    evaluate   scoring a model on a stress suite
    balance    class counts and pasted-class weights towards a target mix
    preview    drawing samples and instances (contact sheets, the report's gallery)
"""
