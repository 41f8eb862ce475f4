"""Publication plots (matplotlib, imported only when a plot is drawn).

Each plot kind has an adapter that turns a result into a plain table
(:func:`forest_table`, :func:`funnel_table`) and one drawing core that takes
the table (or the result), an optional matplotlib ``ax``, and returns the axes.
The adapters read a model's studies through :func:`study_values`, so GLMM fits
(shown by their study-level effect sizes) draw with the same cores.
"""

from .export import figure_files, figure_svg, save_figure
from .forest import forest_plot
from .funnel import FunnelTable, funnel_plot, funnel_table
from .forest_data import (
    ForestBlock,
    ForestPooled,
    ForestStudy,
    ForestTable,
    forest_table,
    forest_table_subgroups,
    pooled_row,
    series_forest_table,
)
from .intervals import PROPORTION_CIS, clopper_pearson, wilson
from .baujat import BaujatTable, baujat_plot, baujat_table
from .bubble import BubbleTable, bubble_plot, bubble_table
from .doi import DoiTable, doi_plot, doi_table
from .labbe import LabbeTable, labbe_plot, labbe_table
from .study_level import StudyValues, study_values

__all__ = [
    "forest_plot", "forest_table", "forest_table_subgroups", "series_forest_table", "pooled_row",
    "ForestTable", "ForestBlock", "ForestPooled", "ForestStudy", "study_values", "StudyValues",
    "doi_plot", "doi_table", "DoiTable", "baujat_plot", "baujat_table", "BaujatTable",
    "bubble_plot", "bubble_table", "BubbleTable", "labbe_plot", "labbe_table", "LabbeTable",
    "funnel_plot", "funnel_table", "FunnelTable", "clopper_pearson", "wilson", "PROPORTION_CIS", "save_figure", "figure_svg", "figure_files",
]  # fmt: skip
