"""ATTACKS registry and AttackConfig: honest by default, validated, applied where it belongs."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError
from node.attacks.attack_base import AttackContext
from node.attacks.registry import ATTACKS, AttackConfig, attack_parameters
from node.attacks.scaled_update import ScaledUpdate

Delta = dict[str, torch.Tensor]


def test_registry_names_every_attack_with_a_cited_docstring() -> None:
    # Assert
    assert sorted(ATTACKS) == [
        "alie",
        "free-rider",
        "gaussian",
        "ipm",
        "label-flip",
        "scale",
        "sign-flip",
    ]
    for cls in ATTACKS.values():
        module_doc = __import__(cls.__module__, fromlist=["_"]).__doc__ or ""
        assert "EVALUATION TOOL ONLY" in module_doc
        assert any(str(year) in module_doc for year in range(2017, 2023))


def test_default_config_is_honest_and_changes_nothing(own_delta: Delta) -> None:
    # Prepare
    config = AttackConfig()
    x, y = torch.zeros(2, 1), torch.tensor([0, 1])

    # Execute
    delta = config.tamper_update(own_delta, AttackContext())
    data = config.poison_data(x, y, 2)

    # Assert
    assert config.is_honest and config.build() is None
    assert delta is own_delta
    assert data[1] is y


def test_config_applies_update_and_data_attacks_in_their_place(own_delta: Delta) -> None:
    # Prepare
    scale = AttackConfig.create("scale", factor=2.0)
    flip = AttackConfig.create("label-flip")
    y = torch.tensor([0, 1, 2])

    # Execute / Assert
    assert isinstance(scale.build(), ScaledUpdate)
    assert scale.tamper_update(own_delta, AttackContext())["b"].tolist() == [6.0]
    assert scale.poison_data(torch.zeros(3, 1), y, 3)[1] is y
    assert flip.poison_data(torch.zeros(3, 1), y, 3)[1].tolist() == [2, 1, 0]
    assert flip.tamper_update(own_delta, AttackContext()) is own_delta


def test_no_reveal_is_a_flag_beside_any_attack() -> None:
    config = AttackConfig.create(no_reveal=True)

    assert not config.is_honest
    assert config.build() is None
    assert AttackConfig.from_dict(config.to_dict()) == config


def test_config_round_trips_through_a_dict() -> None:
    config = AttackConfig.create("alie", z=1.2, no_reveal=False)

    assert config.to_dict() == {"name": "alie", "params": {"z": 1.2}, "no_reveal": False}
    assert AttackConfig.from_dict(config.to_dict()) == config


def test_config_rejects_unknown_attack_parameter_and_field() -> None:
    with pytest.raises(ConfigError) as unknown:
        AttackConfig.create("backdoor")
    assert str(unknown.value) == (
        "unknown attack 'backdoor'; known attacks: alie, free-rider, gaussian, ipm, "
        "label-flip, scale, sign-flip"
    )
    with pytest.raises(
        ConfigError, match="attack 'scale' has no parameter sigma; its parameters: factor"
    ):
        AttackConfig.create("scale", sigma=1.0)
    with pytest.raises(ConfigError, match="attack 'gaussian': sigma must be > 0"):
        AttackConfig.create("gaussian", sigma=-1.0)
    with pytest.raises(ConfigError, match="attack parameters given without an attack name"):
        AttackConfig(params=(("factor", 2.0),))
    with pytest.raises(ConfigError, match="AttackConfig has no field attack"):
        AttackConfig.from_dict({"attack": "scale"})


def test_attack_parameters_lists_dataclass_fields() -> None:
    assert attack_parameters("gaussian") == ("sigma", "replace", "seed")
    assert attack_parameters("sign-flip") == ()
