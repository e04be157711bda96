"""Server-side differential privacy: the DP round around the aggregation rule."""

from aggregator.privacy.server_dp import PrivateRoundOutcome, check_dp_rule, private_round

__all__ = ["PrivateRoundOutcome", "check_dp_rule", "private_round"]
