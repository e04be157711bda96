"""The aggregator: robust rules, scoring, rewards, round orchestration and the service."""
