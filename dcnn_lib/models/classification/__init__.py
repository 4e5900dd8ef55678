"""Classification models (``dcnn_lib.models`` imports every module here: a new file registers its models)."""
