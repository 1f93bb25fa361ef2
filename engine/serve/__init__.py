"""``golive serve``: a read-only web dashboard over the evidence store.

``app`` builds the Starlette application, ``queries`` reads the ledger (never writes it),
``pages`` turns what it reads into page data (filters, pagination, comparisons, flip-flop
detection), ``auth`` keeps users, sessions, CSRF tokens and the audit log in tables of their own,
``security`` sets the response headers, and ``cli`` holds ``golive serve`` and ``golive users``.
"""
