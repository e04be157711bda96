"""Privacy for fedledger: DP parameters and accounting, encrypted envelopes, reader keys.

Modules (imported directly; this package imports none of them, so that reading a task
spec does not load Opacus):

- `params`: the DP parameters a task spec pins on chain.
- `accountant`: (epsilon, delta) spent per participant and in total, from Opacus.
- `clipping`: the clip-bound check and the adaptive clipping-norm update.
- `noise`: reproducible Gaussian noise from a seed (server-side DP).
- `mechanism`: one DP round's steps around the rule, shared by aggregator and auditor.
- `record`: the privacy section of a round report.
- `readers`, `envelope`: the reader set and ECIES envelopes for encrypted artifacts.
- `registry_readers`: the reader set as registered on chain (``registerReaderKey``).
- `submission`: opening an encrypted submission for the shared submission check.
"""
