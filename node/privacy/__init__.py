"""Participant-side privacy: clipping and local noise for client-level DP, DP-SGD, sealing."""
