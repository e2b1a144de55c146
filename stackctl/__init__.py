"""stackctl: render artifacts, run the stack locally, drive loadgen."""
