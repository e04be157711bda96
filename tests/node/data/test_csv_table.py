"""CSV tables: integer and named labels, reshaping, and each malformed row by line number."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ledger.errors import ConfigError
from node.data.csv_table import load_csv
from node.data.errors import DatasetFormatError, DatasetNotFoundError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_reads_named_labels_in_sorted_order(tmp_path: Path) -> None:
    # Prepare
    rows = ["f1,species,f2"] + [f"{i},{'b' if i % 2 else 'a'},{i * 10}" for i in range(10)]
    path = _write(tmp_path / "t.csv", "\n".join(rows) + "\n")

    # Execute
    dataset = load_csv(path, label_column="species", test_fraction=0.2, seed=0)

    # Assert
    assert dataset.class_names == ("a", "b")
    assert dataset.input_shape == (2,)
    assert (dataset.num_train, dataset.num_test) == (8, 2)
    both_x = torch.cat([dataset.x_train, dataset.x_test])
    both_y = torch.cat([dataset.y_train, dataset.y_test])
    for x, y in zip(both_x.tolist(), both_y.tolist(), strict=True):
        assert x[1] == x[0] * 10 and y == int(x[0]) % 2


def test_load_csv_reshapes_integer_labelled_rows(tmp_path: Path) -> None:
    rows = [",".join([str(i % 3)] + ["0.5"] * 4) for i in range(9)]
    path = _write(tmp_path / "img.csv", "\n".join(rows))

    dataset = load_csv(path, label_column=0, has_header=False, input_shape=(1, 2, 2))

    assert dataset.input_shape == (1, 2, 2)
    assert dataset.num_classes == 3
    assert float(dataset.x_train[0, 0, 1, 1]) == 0.5


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("label,a\n0,1\n1,2,3\n", "line 3: 3 fields, expected 2"),
        ("label,a\n0,1\n1,x\n", "line 3: non-numeric feature"),
        ("label,a\n0,nan\n1,2\n", "line 2: feature is NaN or infinite"),
        ("label,a\n,1\n1,2\n", "line 2: empty label"),
        ("label,a\n-1,1\n1,2\n", "integer labels must be >= 0, found -1"),
        ("label,a\n", "no data rows"),
        ("", "file is empty"),
        ("label\n0\n", "needs a label column and at least one feature column"),
    ],
)
def test_load_csv_names_file_and_line_of_bad_rows(tmp_path: Path, body: str, problem: str) -> None:
    path = _write(tmp_path / "bad.csv", body)

    with pytest.raises(DatasetFormatError) as info:
        load_csv(path)
    assert info.value.path == path
    assert problem in str(info.value)


def test_load_csv_rejects_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"label,a\n0,\xff\xfe\n")

    with pytest.raises(DatasetFormatError, match="unreadable CSV"):
        load_csv(path)


def test_load_csv_rejects_unknown_label_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "y,a\n0,1\n1,2\n")

    with pytest.raises(ConfigError, match=r"no column 'label' in .* \(columns: \['y', 'a'\]\)"):
        load_csv(path)


def test_load_csv_rejects_input_shape_that_does_not_fit(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "label,a,b\n0,1,2\n1,2,3\n0,1,1\n1,1,1\n")

    with pytest.raises(ConfigError, match=r"input_shape \(3,\) does not hold 2 features"):
        load_csv(path, input_shape=(3,))


def test_load_csv_reports_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="is not a file"):
        load_csv(tmp_path / "missing.csv")
