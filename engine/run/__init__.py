"""The run stage: load the target (:mod:`.target`), select requirements (:mod:`.selection`), run
their checks (:mod:`.runner`), judge results against thresholds (:mod:`.verdict`) and score
coverage (:mod:`.scoring`)."""
