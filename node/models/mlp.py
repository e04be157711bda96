"""A multi-layer perceptron over flattened inputs: the baseline for any sample shape.

Works on images (flattened) and on CSV feature vectors alike, which makes it the
model for tabular participants and a cheap reference next to the CNN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ledger.errors import ConfigError


class MLP(nn.Module):
    """Flatten, then Linear+ReLU per hidden width, then a linear output layer.

    Parameters
    ----------
    input_shape:
        Shape of one sample; it is flattened.
    num_classes:
        Number of output logits.
    hidden:
        Width of each hidden layer (empty for a linear softmax classifier).
    dropout:
        Dropout after each hidden layer.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        hidden: Sequence[int] = (128,),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        shape = tuple(int(d) for d in input_shape)
        if not shape or min(shape) < 1:
            raise ConfigError(f"model 'mlp' needs a non-empty positive input_shape, got {shape}")
        if num_classes < 2:
            raise ConfigError(f"num_classes must be >= 2, got {num_classes}")
        widths = tuple(int(h) for h in hidden)
        if widths and min(widths) < 1:
            raise ConfigError(f"model 'mlp' hidden widths must be positive, got {tuple(hidden)}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"model 'mlp' dropout must be in [0, 1), got {dropout}")

        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(shape)
        for out in widths:
            layers += [nn.Linear(width, out), nn.ReLU(), nn.Dropout(dropout)]
            width = out
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits for a batch ``(N, *input_shape)``."""
        out: torch.Tensor = self.net(x)
        return out
