"""Partition summary: exact histogram, a rich table and a real PNG file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console

from node.data.partition import Partition, shard_partition
from node.data.partition_summary import save_summary_png, summarize_partition, summary_table

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _fixed_partition() -> tuple[Partition, np.ndarray]:
    labels = np.array([0, 0, 1, 2, 2, 2])
    partition = Partition(
        scheme="manual",
        seed=0,
        params=(("k", 1),),
        client_indices=(np.array([0, 2], dtype=np.int64), np.array([1, 3, 4, 5], dtype=np.int64)),
    )
    return partition, labels


def test_summarize_partition_counts_labels_per_client() -> None:
    # Prepare
    partition, labels = _fixed_partition()

    # Execute
    summary = summarize_partition(partition, labels, ("a", "b", "c"))

    # Assert
    assert summary.histogram.tolist() == [[1, 1, 0], [1, 0, 3]]
    assert summary.client_sizes == (2, 4)
    assert summary.classes_per_client == (2, 2)
    assert summary.title == "manual(k=1) seed=0, 2 clients"


def test_summary_table_has_one_row_per_client() -> None:
    # Prepare
    partition, labels = _fixed_partition()
    summary = summarize_partition(partition, labels, ("a", "b", "c"))
    console = Console(width=120, record=True, color_system=None)

    # Execute
    table = summary_table(summary)
    console.print(table)

    # Assert
    assert table.row_count == 2
    assert [c.header for c in table.columns] == ["client", "samples", "classes", "a", "b", "c"]
    text = console.export_text()
    assert "│      1 │       4 │       2 │ 1 │ 0 │ 3 │" in text


def test_save_summary_png_writes_a_png(tmp_path: Path) -> None:
    # Prepare
    labels = np.repeat(np.arange(10), 20)
    partition = shard_partition(labels, 5, classes_per_client=2, seed=0)
    summary = summarize_partition(partition, labels, tuple(str(i) for i in range(10)))

    # Execute
    path = save_summary_png(summary, tmp_path / "out" / "partition.png")

    # Assert
    assert path == tmp_path / "out" / "partition.png"
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (800, 280)
