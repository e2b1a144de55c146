"""Stack configuration: schema, validation, typed Settings, price table, versions."""
from settings.load import SettingsError, load_stack_file, validate  # noqa: F401
from settings.model import Settings  # noqa: F401
