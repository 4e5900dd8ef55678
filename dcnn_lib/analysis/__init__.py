"""Analysis tools that work on ANY ``nn.Module`` (no model file is imported here)."""
from .summary import LayerRow, Summary, summary

__all__ = ["LayerRow", "Summary", "summary"]
