"""The go-live plan as YAML: plan.yaml plus one file per section under phase folders."""
