"""Show how skewed a partition is: a per-client label histogram as a table and a picture.

Before trusting a robust-aggregation experiment one should see the skew it ran
under. The histogram is computed once into a frozen record; the rich table suits a
terminal and the PNG (matplotlib's Agg canvas, no display or global pyplot state)
suits a report or the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from rich.table import Table

from ledger.errors import ConfigError
from node.data.partition import Partition


@dataclass(frozen=True)
class PartitionSummary:
    """Per-client label counts of one partition.

    Attributes
    ----------
    title:
        Scheme, parameters and seed in words.
    class_names:
        Name of each class column.
    histogram:
        int64 counts, shape ``(num_clients, num_classes)``.
    """

    title: str
    class_names: tuple[str, ...]
    histogram: npt.NDArray[np.int64]

    @property
    def client_sizes(self) -> tuple[int, ...]:
        """Samples per client."""
        return tuple(int(n) for n in self.histogram.sum(axis=1))

    @property
    def classes_per_client(self) -> tuple[int, ...]:
        """Number of distinct classes each client holds."""
        return tuple(int(n) for n in (self.histogram > 0).sum(axis=1))


def summarize_partition(
    partition: Partition, labels: npt.ArrayLike | torch.Tensor, class_names: tuple[str, ...]
) -> PartitionSummary:
    """Count each client's labels under `partition`."""
    if not class_names:
        raise ConfigError("class_names must name at least one class")
    params = ", ".join(f"{k}={v}" for k, v in partition.params)
    title = f"{partition.scheme}({params}) seed={partition.seed}, {partition.num_clients} clients"
    return PartitionSummary(
        title=title,
        class_names=class_names,
        histogram=partition.label_histogram(labels, len(class_names)),
    )


def summary_table(summary: PartitionSummary) -> Table:
    """A rich table: one row per client, one column per class, plus totals."""
    table = Table(title=summary.title)
    table.add_column("client", justify="right")
    table.add_column("samples", justify="right")
    table.add_column("classes", justify="right")
    for name in summary.class_names:
        table.add_column(name, justify="right")
    rows = zip(summary.client_sizes, summary.classes_per_client, summary.histogram, strict=True)
    for client, (size, distinct, counts) in enumerate(rows):
        table.add_row(str(client), str(size), str(distinct), *(str(int(c)) for c in counts))
    return table


def save_summary_png(summary: PartitionSummary, path: Path | str) -> Path:
    """Draw the histogram as stacked horizontal bars (one bar per client) to a PNG."""
    # matplotlib is imported here, not at module level: most users of node.data never draw.
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    target = Path(path)
    num_clients, num_classes = summary.histogram.shape
    figure = Figure(figsize=(8.0, max(2.5, 0.32 * num_clients + 1.2)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    colours = matplotlib.colormaps["tab20" if num_classes > 10 else "tab10"]
    left = np.zeros(num_clients)
    clients = np.arange(num_clients)
    for cls in range(num_classes):
        counts = summary.histogram[:, cls]
        colour = colours(cls % colours.N)
        axes.barh(clients, counts, left=left, color=colour, label=summary.class_names[cls])
        left += counts
    axes.set_yticks(clients)
    axes.set_ylabel("client")
    axes.set_xlabel("samples")
    axes.invert_yaxis()
    axes.set_title(summary.title, fontsize=9)
    axes.legend(title="class", fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, format="png")
    return target
