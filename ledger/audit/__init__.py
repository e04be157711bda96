"""The auditor: re-derives rounds from chain events and content hashes."""
