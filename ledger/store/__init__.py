"""Content store: IPFS-compatible, content-addressed storage that verifies every byte it returns."""
