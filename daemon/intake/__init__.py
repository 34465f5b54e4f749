"""Messages in: every transport hands bytes to `ingest.Intake.ingest`, which gathers the facts, asks the router and records the outcome."""
