"""Writers: Sample -> files, a shard at a time. Every file is written under a temporary name and
renamed when whole, and a shard's done record goes last, so nothing ever looks complete early."""

from synthgen.writers.shard import ShardWriter, verify_shard

__all__ = ["ShardWriter", "verify_shard"]
