"""Writers: Sample -> files. Per-image files are written by whichever process made the image;
run-wide files (COCO annotations, metadata, data.yaml) are streamed by the driver in index order.
Every file is written under a temporary name and renamed, so none ever looks complete early."""

from synthgen.writers.dataset import DatasetWriter, SampleRecord, write_sample_files

__all__ = ["DatasetWriter", "SampleRecord", "write_sample_files"]
