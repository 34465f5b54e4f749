"""The program's own mail: the planner decides what is due, the outbox keeps it, compose and render make it, delivery sends it."""
