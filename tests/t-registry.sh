# One registry of jobs, one table of common options: the programs, the
# crontab, the man pages and jobs-status agree.
. tests/lib.sh

gen=$(jobs-status crontab --generate --system)
registry=$(printf '%s\n' "$gen" | awk '/^[0-9*@]/ { for (i = 1; i <= NF; i++) if ($i ~ /\/jobs-/) { p = $i; sub(/.*\//, "", p); print p; break } }')
[ -n "$registry" ] && ok "the registry lists jobs" || not_ok "the registry lists jobs"
for name in $registry; do
	[ -f "cmd/$name.c" ] && ok "$name: a program in cmd/" || not_ok "$name: a program in cmd/"
	line=$(printf '%s\n' "$gen" | grep "/$name ")
	expr=$(printf '%s\n' "$line" | sed "s/.*--schedule '\\(.*\\)'.*/\\1/")
	crontab_line=$(grep -v '^#' crontab/jobs | grep "/$name ")
	like "$name: its crontab line runs on the registry's schedule" "$crontab_line" "^$(printf '%s' "$expr" | sed 's/\*/\\*/g') "
	like "$name: and declares it" "$crontab_line" "--schedule '$(printf '%s' "$expr" | sed 's/\*/\\*/g')'"
done
for c in cmd/jobs-*.c; do
	name=$(basename "$c" .c)
	[ -f "man/$name.1" ] && ok "$name has a man page" || not_ok "$name has a man page"
	case $name in jobs-status|jobs-run|jobs-ping|jobs-enqueue) continue ;; esac
	if printf '%s\n' "$registry" | grep -qx "$name"; then ok "$name is in the registry"; else not_ok "$name is in the registry"; fi
done
code 0 "the project's crontab lints clean" jobs-status crontab --system crontab/jobs
unlike "with no warning" "$out" "warning|error"
case $(basename crontab/*) in *.*) not_ok "crontab file names have no dot" ;; *) ok "crontab file names have no dot" ;; esac

# A bad option is one clear line and where to look, with exit 2 (jobs-run
# exits 125, as env(1) and timeout(1) do for their own errors).
for c in cmd/jobs-*.c; do
	name=$(basename "$c" .c)
	want=2
	[ "$name" = jobs-run ] && want=125
	"$name" --no-such-option </dev/null >"$T/bad.out" 2>"$T/bad.err"
	rc=$?
	is "$name --no-such-option: exit $want" "$rc" "$want"
	like "$name: the error names the option" "$(head -n 1 "$T/bad.err")" "^$name: .*--no-such-option"
	like "$name: then where to look" "$(tail -n 1 "$T/bad.err")" "^Try '$name --help'"
	if [ "$name" = jobs-run ]; then	# its usage line too, documented
		[ "$(wc -l <"$T/bad.err")" -le 3 ] && ok "$name: a short error" || not_ok "$name: a short error"
	else
		is "$name: two lines, no usage dump" "$(wc -l <"$T/bad.err" | tr -d ' ')" 2
	fi
done

# Every common option (from the one table, as --help prints it) is in the
# man pages of the programs that take them.
options=$(jobs-cleanup --help | grep -oE -- '--[a-z-]+' | sort -u)
for page in jobs-cleanup jobs-run; do
	text=$(mandoc -Tascii "man/$page.1" 2>/dev/null | col -b)
	for o in $options; do
		case $o in --help|--version) continue ;; esac
		case $page/$o in jobs-run/--limit|jobs-run/--dry-run) continue ;; esac
		if printf '%s' "$text" | grep -q -- "$o"; then ok "$page(1) documents $o"; else not_ok "$page(1) documents $o"; fi
	done
done
# The synopsis in each page matches the program's usage line.
like "jobs-run's usage" "$(jobs-run --help | head -n 1)" "^usage: jobs-run \[options\] NAME \[--\] COMMAND"
like "jobs-run(1) synopsis" "$(mandoc -Tascii man/jobs-run.1 | col -b | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | tr -s ' \n' ' ')" "jobs-run \[.*\] NAME \[--\] COMMAND"
finish
