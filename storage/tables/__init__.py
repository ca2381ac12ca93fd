"""The schema (数据模型) split by subject; ``storage.models`` gathers every table."""
