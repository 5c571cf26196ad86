"""The auditor's questions of the log: explain an event, trace an order, statements, findings."""
