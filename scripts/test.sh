#!/usr/bin/env bash
# The project's test command: every test in the workspace, one build.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --workspace -j2 "$@"
