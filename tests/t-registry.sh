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
