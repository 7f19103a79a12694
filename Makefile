# jobs - reliable background jobs with cron and SQLite.
#
#   make            build the programs into bin/ (installs missing -dev packages as root)
#   make demo       build and run the toolkit on generated sample data
#   make check      every test: unit, command, man pages, then the same under ASan+UBSan
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench      benchmarks (ratios against a baseline measured in the same run)
#   SANITIZE=address,undefined  build with the sanitizers

.DELETE_ON_ERROR:
.SECONDARY:
MAKEFLAGS += --no-print-directory
.SUFFIXES:

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
BIN ?= bin

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -std=c11 -Wall -Wextra -Wpedantic -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wwrite-strings -Wformat=2 -Werror
CPPFLAGS += -D_GNU_SOURCE -DJOBS_VERSION='"$(VERSION)"' -Ilib
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

# Evaluated when a recipe runs, after deps has installed what was missing.
DEP_CFLAGS = $(shell pkg-config --cflags sqlite3 libcjson)
# SQLite is linked statically when its archive is there (SQLITE_STATIC=1):
# Debian's shared libsqlite3 is bound at load (BIND_NOW), ~3,000 relocations
# that cron would pay on every start.  The price: rebuild (make install)
# after a libsqlite3 security update.  SQLITE_STATIC=0 links the shared one.
SQLITE_STATIC ?= 1
SQLITE_A = $(wildcard $(shell pkg-config --variable=libdir sqlite3)/libsqlite3.a)
DEP_LIBS = $(if $(and $(filter 1,$(SQLITE_STATIC)),$(SQLITE_A)),\
	$(SQLITE_A) $(filter-out -lsqlite3,$(shell pkg-config --static --libs sqlite3)),\
	$(shell pkg-config --libs sqlite3)) $(shell pkg-config --libs libcjson)
CURL_CFLAGS = $(shell pkg-config --cflags libcurl libcrypto)
CURL_LIBS = $(shell pkg-config --libs libcurl libcrypto) -pthread

# Only the programs that send link libcurl (DESIGN §3: it costs ~5 ms an exec).
CURL_PROGS := jobs-ping jobs-deliver jobs-respond
PROGS := $(patsubst cmd/%.c,%,$(wildcard cmd/jobs-*.c))
LIB_OBJ := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(wildcard lib/*.c)) \
	$(BUILD)/lib/schema_sql.o
UNIT := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
MAN1 := $(wildcard man/*.1)
MAN5 := $(wildcard man/*.5)
MAN7 := $(wildcard man/*.7)

all: $(addprefix $(BIN)/,$(PROGS))

deps:
	@./build-aux/deps build

deps-check:
	@./build-aux/deps check

$(BUILD)/lib/schema_sql.c: schema.sql | $(BUILD)/lib
	{ echo '/* generated from schema.sql: do not edit */'; \
	  echo 'const char jobs_schema_sql[] = {'; \
	  od -An -v -tx1 schema.sql | sed -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; } > $@

$(BUILD)/lib/%.o: lib/%.c lib/*.h | deps $(BUILD)/lib
	$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) $(DEP_CFLAGS) \
		$(if $(filter send ping http model,$*),$(CURL_CFLAGS)) -c -o $@ $<

$(BUILD)/lib/schema_sql.o: $(BUILD)/lib/schema_sql.c
	$(CC) $(WARNINGS) -Wno-missing-prototypes $(CFLAGS) -c -o $@ $<

$(BUILD)/libjobs.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/cmd/%.o: cmd/%.c lib/*.h | deps $(BUILD)/cmd
	$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) $(DEP_CFLAGS) \
		$(if $(filter $*,$(CURL_PROGS)),$(CURL_CFLAGS)) -c -o $@ $<

$(BIN)/%: $(BUILD)/cmd/%.o $(BUILD)/libjobs.a | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libjobs.a $(DEP_LIBS) \
		$(if $(filter $*,$(CURL_PROGS)),$(CURL_LIBS))

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libjobs.a | $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) $(DEP_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(BUILD)/libjobs.a $(DEP_LIBS)

# Fuzz targets, linked with replay.c: each corpus is replayed (not fuzzed)
# on every check; make fuzz fuzzes them with libFuzzer.
FUZZ := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
# fuzz_model reads a model's answer with lib/model.c, which links libcurl.
CURL_FUZZ := model
$(BUILD)/tests/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libjobs.a | $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) $(DEP_CFLAGS) $(LDFLAGS) -o $@ $< \
		tests/fuzz/replay.c $(BUILD)/libjobs.a $(DEP_LIBS) \
		$(if $(filter $*,$(CURL_FUZZ)),$(CURL_LIBS))

# The allocation-failure shim tests/t-oom.sh preloads: never sanitized (ASan's
# allocator and an LD_PRELOAD malloc do not mix), so not CFLAGS or LDFLAGS.
$(BUILD)/tests/failmalloc.so: tests/failmalloc.c | $(BUILD)/tests
	$(CC) $(WARNINGS) -O2 -g -fPIC -shared -o $@ $< -ldl

$(BUILD)/lib $(BUILD)/cmd $(BUILD)/tests $(BIN):
	mkdir -p $@

unit: $(UNIT) $(addprefix $(BUILD)/tests/fuzz_,$(FUZZ)) $(BUILD)/tests/failmalloc.so

# Run every test on this build; JOBS_BIN tells the command tests which programs.
test: all unit deps-check
	JOBS_BIN=$(abspath $(BIN)) JOBS_UNIT=$(abspath $(BUILD)/tests) \
		./tests/run

check: deps-check
	$(MAKE) test
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)
	$(MAKE) SANITIZE=address,undefined BUILD=build/san BIN=build/san/bin test

# Fuzz every target with libFuzzer (clang), RUNS executions each (10^6 by
# default), starting from and adding to its corpus in tests/fuzz/corpus/.
RUNS ?= 1000000
fuzz: $(BUILD)/lib/schema_sql.c | deps
	mkdir -p $(BUILD)/fuzz
	for t in $(FUZZ); do \
		clang $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
			$$(pkg-config --cflags sqlite3 libcjson) \
			-o $(BUILD)/fuzz/$$t tests/fuzz/fuzz_$$t.c \
			$(filter-out lib/main.c lib/ping.c lib/send.c lib/http.c lib/model.c lib/respond.c,$(wildcard lib/*.c)) \
			$$(case " $(CURL_FUZZ) " in *" $$t "*) echo lib/model.c lib/http.c \
			    $$(pkg-config --cflags --libs libcurl libcrypto);; esac) \
			$(BUILD)/lib/schema_sql.c $$(pkg-config --libs sqlite3 libcjson) && \
		mkdir -p $(BUILD)/fuzz/corpus-$$t && \
		(cd $(BUILD)/fuzz && ./$$t -runs=$(RUNS) corpus-$$t \
			$(CURDIR)/tests/fuzz/corpus/$$t) || exit 1; \
	done

demo: all
	@./build-aux/deps demo
	./build-aux/demo $(BIN)

$(BUILD)/bench/next: bench/next.c $(BUILD)/libjobs.a
	mkdir -p $(BUILD)/bench
	$(CC) $(CPPFLAGS) $(WARNINGS) -O2 $(DEP_CFLAGS) -o $@ $< $(BUILD)/libjobs.a $(DEP_LIBS)

bench: all $(BUILD)/bench/next
	./bench/overhead $(BIN)
	$(BUILD)/bench/next
	./bench/status $(BIN)
	./bench/deliver $(BIN)
	./bench/alerts $(BIN)

compile_commands.json: $(wildcard lib/*.c cmd/*.c tests/unit/*.c)
	./build-aux/compdb $(CC) "$(filter-out -DJOBS_VERSION%,$(CPPFLAGS)) $(WARNINGS) $(CFLAGS)" $^ > $@

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/jobs
	install -m 0755 $(addprefix $(BIN)/,$(PROGS)) $(DESTDIR)$(PREFIX)/bin
	$(if $(MAN1),install -m 0644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1)
	$(if $(MAN5),install -m 0644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5)
	$(if $(MAN7),install -m 0644 $(MAN7) $(DESTDIR)$(PREFIX)/share/man/man7)
	sed 's|/usr/local/bin|$(PREFIX)/bin|g' crontab/jobs > $(DESTDIR)$(PREFIX)/share/jobs/crontab
	chmod 0644 $(DESTDIR)$(PREFIX)/share/jobs/crontab

clean:
	rm -rf build bin compile_commands.json

.PHONY: all deps deps-check unit test check fuzz demo bench install clean
