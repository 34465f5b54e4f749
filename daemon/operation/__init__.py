"""What a person running the program does from the shell besides `run`: status, export, outbox, simulate, init."""
