"""python -m alerts: rewrite runbooks/ from the alert definitions (defaults of the schema)."""
from pathlib import Path

import alerts
from alerts.runbooks import pages
from settings import REFERENCE_CONFIG, validate

root = Path(__file__).resolve().parent.parent
for path, text in pages(alerts.all_alerts(validate(REFERENCE_CONFIG))).items():
    (root / path).write_text(text)
    print(path)
