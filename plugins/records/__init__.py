"""Shared reading and validation of the trading records contract (docs/records-contract.md).

Not a checker family itself: the algorithm, broker, risk and business families use it to load
``records/*`` files with their contract enforced and to compute the statistics they report.
"""
