/*
 * failmalloc.so - an LD_PRELOAD shim that makes one allocation fail, for
 * tests/t-oom.sh.  Not part of the toolkit; built without sanitizers.
 *
 *   JOBS_FAILMALLOC=N          make the Nth allocation after main() starts
 *                              fail (NULL, errno ENOMEM); 0 or unset: none
 *   JOBS_FAILMALLOC_ALL=1      fail every allocation from the Nth on
 *   JOBS_FAILMALLOC_REPORT=F   at exit, write to F:
 *                                calls C       allocations counted
 *                                failed K      allocations made to fail
 *                                live L        blocks allocated in main() and
 *                                              still not freed
 *                              then the sequence numbers of those L blocks,
 *                              one a line ("overflow" if too many to track)
 *   JOBS_FAILMALLOC_WATCH=K    call failmalloc_watch() when allocation K is
 *                              made: where a leaked block came from
 *   JOBS_FAILMALLOC_TRACE=F    write to F, for each allocation counted, its
 *                              number and the calls on the stack that lie in
 *                              the program itself (return address - 1), as
 *                              offsets from its load address in hex,
 *                              innermost first ("12 1a2b 3c4d"):
 *                              addr2line turns them into the lines that
 *                              allocate, so a test can fail one allocation
 *                              a call site rather than every one
 *
 * Counted: malloc, calloc, realloc (not realloc to size 0, which frees),
 * and so everything in libc that allocates through them (strdup, fopen,
 * getline...): glibc routes its own allocations through the interposable
 * malloc symbol.  SQLite is linked statically but its default allocator
 * calls malloc/realloc/free through the PLT, so its allocations count too.
 *
 * Counting starts when main() is entered: the shim wraps
 * __libc_start_main and hands it a main that switches counting on, so the
 * dynamic loader, libc start-up and constructors never fail.  It counts
 * only in the process that started main(): a forked child between fork and
 * exec is left alone, and the JOBS_FAILMALLOC variables are removed from
 * the environment so a program the tested one runs is not affected.
 * Counting stops when main() returns or exit() is called.
 *
 * To see where point N is: gdb -ex 'set environment LD_PRELOAD ...'
 * -ex 'set environment JOBS_FAILMALLOC N' -ex 'break failmalloc_hit' -ex run
 * -ex bt --args PROGRAM ARGS; with JOBS_FAILMALLOC_WATCH and
 * "break failmalloc_watch", where block K (say one the report lists) is made.
 *
 * The shim allocates nothing itself: it calls glibc's __libc_* functions,
 * and the live-block table is static.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);

/* Exported names must have prototypes under the project's warnings. */
void *malloc(size_t);
void *calloc(size_t, size_t);
void *realloc(void *, size_t);
void free(void *);
int __libc_start_main(int (*)(int, char **, char **), int, char **,
    void (*)(void), void (*)(void), void (*)(void), void *);

static unsigned long fail_at;		/* 0: never */
static unsigned long watch_at;		/* 0: none */
static int fail_all;
static char report[4096];
static volatile int counting;
static pid_t counting_pid;
static unsigned long calls, failed;
static int (*real_main)(int, char **, char **);
static int trace_fd = -1;
static uintptr_t exe_base, exe_lo, exe_hi;	/* the program's code */
static _Thread_local int in_trace;	/* inside backtrace(): not counted */

/*
 * Live blocks allocated while counting: open addressing, linear probing,
 * deletion by backward shift.  1 << 20 slots is far more than a run of
 * these programs holds at once; past 3/4 full the table stops tracking.
 */
#define SLOTS (1u << 20)
static struct slot { void *p; unsigned long seq; } table[SLOTS];
static unsigned long nlive;
static int overflow;
static volatile char lock;

static void
take(void)
{
	while (__atomic_test_and_set(&lock, __ATOMIC_ACQUIRE))
		;
}

static void
give(void)
{
	__atomic_clear(&lock, __ATOMIC_RELEASE);
}

static size_t
hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x & (SLOTS - 1);
}

static void
track(void *p, unsigned long seq)
{
	size_t i;

	if (p == NULL || overflow)
		return;
	if (nlive >= SLOTS / 4 * 3) {
		overflow = 1;
		return;
	}
	for (i = hash(p); table[i].p && table[i].p != p; i = (i + 1) & (SLOTS - 1))
		;
	if (table[i].p == NULL)
		nlive++;
	table[i].p = p;
	table[i].seq = seq;
}

static void
untrack(void *p)
{
	size_t i, j, k;

	if (p == NULL || nlive == 0)
		return;
	for (i = hash(p); table[i].p && table[i].p != p; i = (i + 1) & (SLOTS - 1))
		;
	if (table[i].p == NULL)
		return;		/* allocated before main, or not tracked */
	nlive--;
	/* Backward shift: move later members of the run into the hole. */
	for (j = i;;) {
		table[i].p = NULL;
		for (;;) {
			j = (j + 1) & (SLOTS - 1);
			if (table[j].p == NULL)
				return;
			k = hash(table[j].p);
			/* k cyclically in (i, j]: the entry stays where it is */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		table[i] = table[j];
		i = j;
	}
}

/* Called at each injected failure: a breakpoint for gdb ("break failmalloc_hit"). */
void failmalloc_hit(unsigned long seq);

__attribute__((noinline)) void
failmalloc_hit(unsigned long seq)
{
	__asm__ volatile ("" : : "r" (seq) : "memory");
}

/* Called when allocation JOBS_FAILMALLOC_WATCH is made (it succeeds). */
void failmalloc_watch(unsigned long seq);

__attribute__((noinline)) void
failmalloc_watch(unsigned long seq)
{
	__asm__ volatile ("" : : "r" (seq) : "memory");
}

static void put(int fd, const char *s);

/* Write "seq off off ...\n" for the frames of the stack in the program. */
static void
trace(unsigned long seq)
{
	void *frames[64];
	char line[64 * 17 + 32], *p = line + sizeof(line);
	int n, i;

	if (trace_fd < 0 || in_trace)
		return;
	in_trace = 1;
	n = backtrace(frames, 64);
	/* Built backwards from the end of line: digits come out reversed. */
	*--p = '\0';
	*--p = '\n';
	for (i = n - 1; i >= 0; i--) {
		uintptr_t a = (uintptr_t)frames[i];

		if (a < exe_lo || a >= exe_hi)
			continue;
		a -= exe_base + 1;	/* in the call, not after it */
		do
			*--p = "0123456789abcdef"[a & 15];
		while ((a >>= 4) != 0);
		*--p = ' ';
	}
	do
		*--p = (char)('0' + seq % 10);
	while ((seq /= 10) != 0);
	put(trace_fd, p);
	in_trace = 0;
}

/* 1 when this call must fail; *seq is its number (0 when not counting). */
static int
count(unsigned long *seq)
{
	*seq = 0;
	if (!counting || in_trace || getpid() != counting_pid)
		return 0;
	*seq = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	if (*seq == watch_at)
		failmalloc_watch(*seq);
	trace(*seq);
	if (fail_at && (*seq == fail_at || (fail_all && *seq > fail_at))) {
		__atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
		failmalloc_hit(*seq);
		return 1;
	}
	return 0;
}

void *
malloc(size_t n)
{
	unsigned long seq;
	void *p;

	if (count(&seq)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __libc_malloc(n);
	if (seq) {
		take();
		track(p, seq);
		give();
	}
	return p;
}

void *
calloc(size_t n, size_t size)
{
	unsigned long seq;
	void *p;

	if (count(&seq)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __libc_calloc(n, size);
	if (seq) {
		take();
		track(p, seq);
		give();
	}
	return p;
}

void *
realloc(void *old, size_t n)
{
	unsigned long seq = 0;
	void *p;

	if (old != NULL && n == 0) {	/* a free, not an allocation */
		free(old);
		return NULL;
	}
	if (count(&seq)) {
		errno = ENOMEM;
		return NULL;	/* the old block stays the caller's */
	}
	p = __libc_realloc(old, n);
	if (p != NULL && counting) {
		take();
		untrack(old);
		/* a block from before main keeps counting as not ours */
		if (seq)
			track(p, seq);
		give();
	}
	return p;
}

void
free(void *p)
{
	if (p != NULL && counting) {
		take();
		untrack(p);
		give();
	}
	__libc_free(p);
}

static void
put(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void
putnum(int fd, const char *label, unsigned long v)
{
	char buf[32], *p = buf + sizeof(buf);

	*--p = '\0';
	*--p = '\n';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0 && p > buf);
	put(fd, label);
	put(fd, p);
}

/* Stop counting and write the report: at exit() and when main returns. */
static void
finish(void)
{
	size_t i;
	int fd;

	if (!counting || getpid() != counting_pid)
		return;
	counting = 0;
	if (trace_fd >= 0)
		close(trace_fd);
	trace_fd = -1;
	if (report[0] == '\0')
		return;
	if ((fd = open(report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return;
	putnum(fd, "calls ", calls);
	putnum(fd, "failed ", failed);
	putnum(fd, "live ", nlive);
	if (overflow)
		put(fd, "overflow\n");
	else
		for (i = 0; i < SLOTS; i++)
			if (table[i].p)
				putnum(fd, "", table[i].seq);
	close(fd);
}

static unsigned long
number(const char *s)
{
	unsigned long v = 0;

	if (s == NULL)
		return 0;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v;
}

/* The first object dl_iterate_phdr reports is the program. */
static int
find_exe(struct dl_phdr_info *info, size_t size, void *arg)
{
	int i;

	(void)size;
	(void)arg;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (exe_hi == 0 || info->dlpi_addr + ph->p_vaddr < exe_lo)
			exe_lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > exe_hi)
			exe_hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	/* Offsets from the load address, as addr2line reads them. */
	exe_base = info->dlpi_addr;
	return 1;
}

static int
wrapped_main(int argc, char **argv, char **envp)
{
	const char *s;
	int rc;

	fail_at = number(getenv("JOBS_FAILMALLOC"));
	fail_all = (s = getenv("JOBS_FAILMALLOC_ALL")) != NULL && s[0] == '1';
	watch_at = number(getenv("JOBS_FAILMALLOC_WATCH"));
	if ((s = getenv("JOBS_FAILMALLOC_REPORT")) != NULL &&
	    strlen(s) < sizeof(report))
		memcpy(report, s, strlen(s) + 1);
	if ((s = getenv("JOBS_FAILMALLOC_TRACE")) != NULL && s[0]) {
		void *prime[1];

		/* The first backtrace() loads libgcc_s: before counting. */
		backtrace(prime, 1);
		dl_iterate_phdr(find_exe, NULL);
		trace_fd = open(s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	/* unsetenv only shrinks environ in place: no allocation. */
	unsetenv("JOBS_FAILMALLOC");
	unsetenv("JOBS_FAILMALLOC_ALL");
	unsetenv("JOBS_FAILMALLOC_REPORT");
	unsetenv("JOBS_FAILMALLOC_WATCH");
	unsetenv("JOBS_FAILMALLOC_TRACE");
	if (fail_at || report[0] || watch_at || trace_fd >= 0) {
		counting_pid = getpid();
		counting = 1;
	}
	rc = real_main(argc, argv, environ);
	(void)envp;
	finish();
	return rc;
}

/* exit() from inside main: destructors run before the process ends. */
__attribute__((destructor)) static void
at_exit(void)
{
	finish();
}

int
__libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
    void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
    void *stack_end)
{
	int (*real)(int (*)(int, char **, char **), int, char **, void (*)(void),
	    void (*)(void), void (*)(void), void *);

	*(void **)&real = dlsym(RTLD_NEXT, "__libc_start_main");
	real_main = main;
	return real(wrapped_main, argc, argv, init, fini, rtld_fini, stack_end);
}
