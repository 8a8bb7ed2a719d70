# Yiwang build.
#
#   make run     build and serve the demo city on 127.0.0.1:8080 (data in ./var)
#   make test    build with ASan+UBSan, run the unit tests, the API tests and the console's browser tests
#   make fuzz    run each libFuzzer target for FUZZ_SECONDS
#   make bench   compare yiwang with nginx under wrk
#
# Every target installs the Debian packages it needs first (scripts/deps.sh).

CC       ?= cc
PKGS     := libmicrohttpd jansson sqlite3 libsodium libcrypto libcurl
WARN     := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter \
            -Wno-missing-field-initializers
BASE     := -std=gnu11 -pthread -Isrc -D_GNU_SOURCE $(WARN)
LIBS      = $(shell pkg-config --libs $(PKGS)) -lpthread -lm

RELEASE_CFLAGS := $(BASE) -O2 -g
ASAN_CFLAGS    := $(BASE) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

SRC      := $(shell find src -name '*.c' | sort)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
HDRS     := $(shell find src -name '*.h')
MIGRATIONS := $(sort $(wildcard migrations/sqlite/*.sql))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 30
NODE     ?= node

.PHONY: all run test layers unit api browser fuzz bench deps deps-test clean format
all: build/release/yiwang

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test

build/gen/migrations_sqlite.c: $(MIGRATIONS) scripts/embed-migrations.sh
	@mkdir -p $(@D)
	scripts/embed-migrations.sh migrations/sqlite yw_sqlite_migrations > $@

build/tools/yaml2json: tools/yaml2json.c | deps
	@mkdir -p $(@D)
	$(CC) $(BASE) -O2 -o $@ $< -ljansson -lyaml

build/gen/openapi.json: api/openapi.yaml build/tools/yaml2json
	@mkdir -p $(@D)
	build/tools/yaml2json $< $@

build/gen/openapi_json.c: build/gen/openapi.json
	cd build/gen && xxd -i -n yw_openapi_json openapi.json > openapi_json.c.tmp
	sed -e 's/^unsigned char/const unsigned char/' -e 's/^unsigned int/const unsigned int/' $@.tmp > $@ && rm $@.tmp

CONSOLE_FILES := $(shell find web/console -type f ! -name '.*' | sort)
build/gen/console_assets.c: $(CONSOLE_FILES) scripts/embed-console.sh
	@mkdir -p $(@D)
	scripts/embed-console.sh web/console > $@.$$$$.tmp && mv $@.$$$$.tmp $@

GEN_SRC := build/gen/migrations_sqlite.c build/gen/openapi_json.c build/gen/console_assets.c

# One object tree per variant: build/release and build/asan.
define variant
build/$(1)/obj/%.o: %.c $(HDRS) | deps
	@mkdir -p $$(@D)
	$$(CC) $(2) $$(shell pkg-config --cflags $(PKGS)) -c $$< -o $$@

build/$(1)/obj/gen/%.o: build/gen/%.c src/store/db.h src/console/assets.h
	@mkdir -p $$(@D)
	$$(CC) $(2) -Wno-missing-prototypes -c $$< -o $$@

build/$(1)/libyiwang.a: $(patsubst %.c,build/$(1)/obj/%.o,$(LIB_SRC)) $(patsubst build/gen/%.c,build/$(1)/obj/gen/%.o,$(GEN_SRC))
	@rm -f $$@
	ar rcs $$@ $$^

build/$(1)/yiwang: build/$(1)/obj/src/main.o build/$(1)/libyiwang.a
	$$(CC) $(2) -o $$@ $$^ $$(LIBS)
endef
$(eval $(call variant,release,$(RELEASE_CFLAGS)))
$(eval $(call variant,asan,$(ASAN_CFLAGS)))

build/asan/unit-tests: $(patsubst %.c,build/asan/obj/%.o,$(UNIT_SRC)) build/asan/libyiwang.a | deps-test
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS) -lcriterion

run: build/release/yiwang
	@mkdir -p var
	./build/release/yiwang serve --data var --demo

# Sanitizer reports fail the run: ASan and UBSan abort on the first finding.
export ASAN_OPTIONS  := abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

test: layers unit api browser

layers:
	@scripts/check-layers.sh

unit: deps-test build/asan/unit-tests
	./build/asan/unit-tests --jobs 2

api: deps-test build/asan/yiwang
	YIWANG_BIN=$(CURDIR)/build/asan/yiwang $(NODE) --test --test-concurrency=2 tests/api/

# playwright-core from npm (lockfile committed) drives Debian's chromium; screenshots go to build/screenshots/.
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json | deps-test
	cd tests/browser && npm ci --no-audit --no-fund

browser: deps-test build/asan/yiwang tests/browser/node_modules/.package-lock.json
	YIWANG_BIN=$(CURDIR)/build/asan/yiwang $(NODE) --test --test-concurrency=1 tests/browser/

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(GEN_SRC) $(HDRS)
	@scripts/deps.sh fuzz
	@mkdir -p $(@D)
	clang $(BASE) -Wno-missing-prototypes -O1 -g -fsanitize=fuzzer,address,undefined \
	    $$(pkg-config --cflags $(PKGS)) -o $@ $< $(LIB_SRC) $(GEN_SRC) $(LIBS)

fuzz: $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
	@for t in $^; do \
	  name=$$(basename $$t); mkdir -p build/fuzz/corpus/$$name; \
	  echo "fuzzing $$name for $(FUZZ_SECONDS)s"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus/$$name tests/fuzz/corpus/$$name || exit 1; \
	done

build/release/audit-bench: bench/audit_bench.c build/release/libyiwang.a
	$(CC) $(RELEASE_CFLAGS) -Wno-missing-prototypes $$(pkg-config --cflags $(PKGS)) -o $@ $^ $(LIBS)

build/release/search-bench: bench/search_bench.c build/release/libyiwang.a
	$(CC) $(RELEASE_CFLAGS) -Wno-missing-prototypes $$(pkg-config --cflags $(PKGS)) -o $@ $^ $(LIBS)

build/release/gen-people: bench/gen_people.c build/release/libyiwang.a
	$(CC) $(RELEASE_CFLAGS) $$(pkg-config --cflags $(PKGS)) -o $@ $^ $(LIBS)

bench: build/release/yiwang build/release/audit-bench build/release/gen-people build/release/search-bench
	@scripts/deps.sh bench
	bench/http.sh
	bench/console.sh
	bench/share.sh
	bench/access.sh
	./build/release/audit-bench
	bench/import.sh
	./build/release/search-bench

clean:
	rm -rf build

format:
	clang-format -i $(SRC) $(HDRS) $(UNIT_SRC) $(FUZZ_SRC)
