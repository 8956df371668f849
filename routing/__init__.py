"""The domain core of the hotline: departments, categories, work orders, SLA clocks, escalation, Open311."""
