"""A small convolutional classifier that fits 8x8 digits, 28x28 MNIST and 32x32 CIFAR.

Federated rounds ship every parameter to every participant, so the default is
deliberately small (about 38k parameters on digits and MNIST, as in the platform
calibration) while still learning image structure. One rule adapts it to the input
size: each block is a 3x3 convolution (padding 1) and ReLU, followed by a 2x2 max
pool when the feature map is wider than 8; one last 2x2 pool (ceil mode) precedes
the classifier head. That gives a 4x4 map for 8x8, 28x28 and 32x32 inputs alike.
No batch normalisation: its running statistics would ride along in every update
and average poorly across non-IID clients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ledger.errors import ConfigError

POOL_ABOVE = 8


class SmallCNN(nn.Module):
    """Conv blocks, then a one-hidden-layer classifier head.

    Parameters
    ----------
    input_shape:
        ``(channels, height, width)`` of one sample.
    num_classes:
        Number of output logits.
    channels:
        Output channels of each convolution block.
    hidden:
        Width of the hidden fully connected layer.
    dropout:
        Dropout before the output layer (0 keeps training free of random masks).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        channels: Sequence[int] = (16, 32),
        hidden: int = 64,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        shape = tuple(int(d) for d in input_shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ConfigError(
                f"model 'cnn' needs input_shape (channels, height, width), got {shape}; "
                "use 'mlp' for flat features"
            )
        if num_classes < 2:
            raise ConfigError(f"num_classes must be >= 2, got {num_classes}")
        widths = tuple(int(c) for c in channels)
        if not widths or min(widths) < 1:
            raise ConfigError(f"model 'cnn' channels must be positive, got {tuple(channels)}")
        if hidden < 1:
            raise ConfigError(f"model 'cnn' hidden must be >= 1, got {hidden}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"model 'cnn' dropout must be in [0, 1), got {dropout}")

        layers: list[nn.Module] = []
        in_channels, height, width = shape
        for out_channels in widths:
            layers += [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU()]
            in_channels = out_channels
            if max(height, width) > POOL_ABOVE:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
                height, width = math.ceil(height / 2), math.ceil(width / 2)
        layers.append(nn.MaxPool2d(2, ceil_mode=True))
        height, width = math.ceil(height / 2), math.ceil(width / 2)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * height * width, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits for a batch ``(N, C, H, W)``."""
        out: torch.Tensor = self.classifier(self.features(x))
        return out
