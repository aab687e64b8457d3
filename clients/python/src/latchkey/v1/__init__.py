"""Generated from proto/latchkey/v1 by generate.sh: do not edit."""
