"""``golive assess``: a framework's self-assessment written from the signed evidence ledger.

``model`` holds the document's data; ``period`` parses ``FROM..TO``; ``ledger`` reads the
verified ledger (runs in the period, per target the latest to record each requirement, their results re-made from the
entries, waivers, attestations, sign-offs); ``conclude`` turns one catalog into concluded items
with citations and open actions; ``render`` writes Markdown and PDF; ``cli`` is the command.
"""
