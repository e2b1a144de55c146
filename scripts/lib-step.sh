# step CMD...: run CMD and print how long it took (sourced by scripts/setup.sh and its streams).
step() { local t=$SECONDS; "$@"; echo "setup: $* took $((SECONDS - t))s" >&2; }
