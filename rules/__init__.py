"""Rule modules, one file per rule, grouped by the mode they judge. See README "Adding a rule"."""
