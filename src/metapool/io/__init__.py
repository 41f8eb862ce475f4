"""Reading study tables and strict conversion of their columns."""

from .parsing import to_float_array, to_labels
from .tables import StudyTable, get_column, read_table

__all__ = ["StudyTable", "get_column", "read_table", "to_float_array", "to_labels"]
