"""python -m alerts: rewrite runbooks/ from the alert definitions (defaults of the schema)."""
from pathlib import Path

import alerts
from alerts.runbooks import render_runbook
from settings import REFERENCE_CONFIG, validate

root = Path(__file__).resolve().parent.parent
for alert in alerts.all_alerts(validate(REFERENCE_CONFIG)):
    (root / alert.runbook_path).write_text(render_runbook(alert))
    print(alert.runbook_path)
