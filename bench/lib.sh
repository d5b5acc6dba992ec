# shellcheck shell=bash
# lib.sh - what the bench scripts share; source it, do not run it.
#
#   bench_find_tlsd [PATH]   the tlsd binary to measure, as an absolute path:
#                            PATH when given (and then only PATH), else
#                            $TLSD, ./tlsd, the one in the source folder or
#                            its build-plain/, the first executable one;
#                            fails (status 1) when there is none
#   bench_ticks PID...       CPU ticks (user + system, all threads) of these
#                            processes, summed; a gone process counts 0
#   bench_child_cpu FILE     user + system seconds of the caller's finished
#                            children, from a `times` output saved in FILE
#                            (call `times` in the script's own shell: a
#                            subshell sees only its own children)

bench_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_find_tlsd() {
	local c
	if [ -n "${1:-}" ]; then
		[ -x "$1" ] && readlink -f "$1"
		return
	fi
	for c in "${TLSD:-}" ./tlsd "$bench_top/tlsd" "$bench_top/build-plain/tlsd"; do
		[ -n "$c" ] && [ -x "$c" ] && { readlink -f "$c"; return 0; }
	done
	return 1
}

bench_ticks() {
	local p t=0 v
	for p in "$@"; do
		# Field 2 (the command) may hold spaces: count from after its ')'.
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) && t=$((t + v))
	done
	echo "$t"
}

bench_child_cpu() {
	awk 'NR == 2 { n = split($0, f, " "); s = 0
		for (i = 1; i <= n; i++) { split(f[i], ms, "m"); sub("s", "", ms[2]); s += ms[1] * 60 + ms[2] }
		print s }' "$1"
}
