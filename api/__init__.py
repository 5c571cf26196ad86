"""What people and programs use: the command line (api/cli), beside the HTTP service and REPL."""
