"""Pulumi ComponentResources: one per service per target, and one stack component per target."""
