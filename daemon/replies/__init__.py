"""What a reply to the program's mail does: survey answers, check-ins, reported calls, letters, and the coordinators' commands."""
