#!/bin/bash
# stop.sh - stop a server that start.sh started, and its echo backend.
#
#   bench/peers/stop.sh [--keep] NAME|RUNDIR
#
# NAME means start.sh's default RUNDIR, ${TMPDIR:-/tmp}/tlsd-peer.NAME.
# Reads RUNDIR/peer.env; sends SIGTERM to the server's process group and the
# backend's (each started in its own session by start.sh, so the group id is
# the pid it recorded: workers and helpers go with it), waits up to 5 s, then
# SIGKILL. Removes RUNDIR unless --keep (its logs and configs).
set -u
keep=
[ "${1:-}" = --keep ] && { keep=1; shift; }
[ $# -eq 1 ] || { echo "usage: stop.sh [--keep] NAME|RUNDIR" >&2; exit 2; }
case $1 in
*/*) rundir=$1 ;;
*) rundir=${TMPDIR:-/tmp}/tlsd-peer.$1 ;;
esac
if [ ! -f "$rundir/peer.env" ]; then
	echo "stop.sh: no $rundir/peer.env: nothing to stop" >&2
	exit 1
fi
PEER_PID='' PEER_PIDS='' PEER_BACKEND_PID=''
# shellcheck disable=SC1091
. "$rundir/peer.env"

# group_alive PGID: some process of that group still exists.
group_alive() { [ -n "$1" ] && kill -0 -- -"$1" 2>/dev/null; }

for g in $PEER_PID $PEER_BACKEND_PID; do
	kill -TERM -- -"$g" 2>/dev/null
done
for _ in $(seq 50); do
	group_alive "$PEER_PID" || group_alive "$PEER_BACKEND_PID" || break
	sleep 0.1
done
for g in $PEER_PID $PEER_BACKEND_PID; do
	if group_alive "$g"; then
		echo "stop.sh: process group $g still there after 5 s: SIGKILL" >&2
		kill -KILL -- -"$g" 2>/dev/null
	fi
done
# Anything recorded that left its group (none of these servers does that).
for p in $PEER_PIDS; do
	kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
done
[ -z "$keep" ] && rm -rf "$rundir"
exit 0
