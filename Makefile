# cnet - build, test and run.
#   make            build ./cnet
#   make check      install missing packages, build, run the Check suite
#   make demo       install missing packages, build, train and evaluate cfg/entropy_ae.cfg
#   make bench      throughput beside the PyTorch peer, best of ROUNDS=5 alternating
#                   rounds for each side (SEEDS=3: metric spread over seeds)
#   make DEBUG=1    -O0 -g with AddressSanitizer and UBSan
#   make sanitize   the suite built with ASan+UBSan in build-san/  (docs/reliability.md)
#   make tsan       the multi-threaded suites under ThreadSanitizer, in build-tsan/
#   make fuzz       each libFuzzer harness for FUZZ_SECONDS (default 60), in build-fuzz/
#   make memcheck   a short training run and an eval under valgrind, in build-mem/
#   make lint       cppcheck, clang-tidy and scripts/loops.sh (docs/reliability.md)
CC      ?= cc
PKGS     = openblas zlib stb
WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
CPPFLAGS = -Iinclude -Isrc -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
ifeq ($(DEBUG),1)
OPT      = -O0 -g -fsanitize=address,undefined -fno-omit-frame-pointer
else
# 256-bit vectors even where the CPU has AVX-512: on Zen 4 a 512-bit divide
# or square root costs twice a 256-bit one, and Adam's loop on data in cache
# is bound by them
OPT      = -O3 -march=native -mprefer-vector-width=256 -g
endif
# Recursive (=) so pkg-config runs after `make deps` has installed it.
CFLAGS   = -std=c11 $(OPT) -fno-math-errno $(FASTMATH) $(WARN) $(EXTRA_CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TESTLIBS = $(shell pkg-config --libs check 2>/dev/null)

# src/ is the core; src/eval, src/vis and the plug-in folders make the library,
# src/cli the command line (docs/architecture.md).
LIB_SRC  = $(wildcard src/*.c src/eval/*.c src/vis/*.c layers/*.c losses/*.c optim/*.c data/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=build/%.o)
TEST_SRC = $(wildcard tests/*.c)
TEST_OBJ = $(TEST_SRC:%.c=build/%.o)
HEADERS  = $(wildcard include/cnet/*.h src/*.h src/*/*.h layers/*.h losses/*.h data/*.h tests/*.h)

all: cnet

# The Makefile too: a change of flags rebuilds everything.
build/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Vector exp/tanh from libmvec for the activation kernels (see src/act.c).
build/src/act.o: FASTMATH = -ffast-math

build/libcnet.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

CLI_OBJ  = $(patsubst %.c,build/%.o,$(wildcard src/cli/*.c))

cnet: $(CLI_OBJ) build/libcnet.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The suite counts the library's allocations (no allocation in a training step).
TESTWRAP = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
build/check_cnet: $(TEST_OBJ) build/libcnet.a
	$(CC) $(CFLAGS) $(TESTWRAP) -o $@ $^ $(TESTLIBS) $(LDLIBS)

deps:
	@./scripts/deps.sh

# Sequential sub-makes: the flags are read only after deps are installed.
check test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory EXTRA_CFLAGS=-Werror cnet build/check_cnet
	OPENBLAS_NUM_THREADS=1 CK_DEFAULT_TIMEOUT=60 ./build/check_cnet

demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory cnet
	./cnet train cfg/entropy_ae.cfg
	./cnet eval cfg/entropy_ae.cfg

docs/cfg.md: cnet
	./cnet doc > $@

build/sgemm_peak: bench/sgemm_peak.c
	@mkdir -p build
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDLIBS)

bench:
	@$(MAKE) --no-print-directory deps DEV=1
	@$(MAKE) --no-print-directory cnet build/sgemm_peak
	/usr/bin/python3 bench/run.py --rounds $(or $(ROUNDS),5) $(if $(SEEDS),--seeds $(SEEDS))

# ---- reliability: sanitizers, fuzzing, valgrind (docs/reliability.md) ----
# $(call variant,DIR,OPT): the library, cnet and the suite under DIR/, compiled with OPT.
define variant
$(1)/%.o: %.c $$(HEADERS) Makefile
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) -c $$< -o $$@
$(1)/%: OPT = $(2)
$(1)/src/act.o: FASTMATH = -ffast-math
$(1)/libcnet.a: $$(LIB_SRC:%.c=$(1)/%.o)
	rm -f $$@
	ar rcs $$@ $$^
$(1)/cnet: $$(CLI_OBJ:build/%=$(1)/%) $(1)/libcnet.a
	$$(CC) $$(CFLAGS) -o $$@ $$^ $$(LDLIBS)
$(1)/check_cnet: $$(TEST_OBJ:build/%=$(1)/%) $(1)/libcnet.a
	$$(CC) $$(CFLAGS) $$(TESTWRAP) -o $$@ $$^ $$(TESTLIBS) $$(LDLIBS)
endef

# ThreadSanitizer over the tests that run the thread pool (make tsan).
TSAN_OPT = -O1 -g -fsanitize=thread -fno-omit-frame-pointer
$(eval $(call variant,build-tsan,$(TSAN_OPT)))
build-tsan/%: CC = clang

# The suites whose tests run several threads: the pool (net, optim, layers, train)
# and the loader's prefetch thread (data).
tsan:
	@$(MAKE) --no-print-directory deps CHECKERS=1
	@$(MAKE) --no-print-directory EXTRA_CFLAGS=-Werror build-tsan/check_cnet
	@for s in net optim layers data train; do \
	    OPENBLAS_NUM_THREADS=1 CK_DEFAULT_TIMEOUT=120 CK_RUN_SUITE=$$s \
	        ./build-tsan/check_cnet > build-tsan/$$s.log 2>&1; rc=$$?; tail -n 1 build-tsan/$$s.log; \
	    if grep -q 'WARNING: ThreadSanitizer' build-tsan/$$s.log; then \
	        cat build-tsan/$$s.log; echo "tsan: data race in suite $$s"; exit 1; fi; \
	    [ $$rc = 0 ] || exit $$rc; done

# clang, whose UBSan also checks pointer arithmetic on NULL (gcc's does not).
SAN_OPT  = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
$(eval $(call variant,build-san,$(SAN_OPT)))
build-san/%: CC = clang
# The suite runs ./cnet and reads cfg/ and docs/, so it runs in build-san/root,
# where ./cnet is the sanitized binary and every other name links to the tree.
# A leak in a forked test prints a report but passes in Check: grep the log.
sanitize:
	@$(MAKE) --no-print-directory deps CHECKERS=1
	@$(MAKE) --no-print-directory EXTRA_CFLAGS=-Werror build-san/cnet build-san/check_cnet
	@mkdir -p build-san/root && ln -sfn ../cnet build-san/root/cnet
	@for f in $(filter-out cnet build build-san build-tsan build-fuzz build-mem runs,$(wildcard *)); do \
	    ln -sfn ../../$$f build-san/root/$$f; done
	@echo "running the sanitized suite (log: build-san/check.log)"
	@cd build-san/root && ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 OPENBLAS_NUM_THREADS=1 \
	    CK_DEFAULT_TIMEOUT=60 CK_TIMEOUT_MULTIPLIER=4 ../check_cnet > ../check.log 2>&1; \
	    rc=$$?; cat ../check.log; \
	    if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' ../check.log; then \
	        echo "sanitize: sanitizer reports above"; exit 1; fi; exit $$rc

# libFuzzer harnesses (clang): the library instrumented for coverage, and a
# network cap low enough that a fuzzed size cannot exhaust memory.
FUZZ_SECONDS ?= 60
FUZZERS  = cfg idx csv imgdir ckpt
FUZZ_OPT = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
           -DCN_MAX_NET_BYTES=268435456.0
$(eval $(call variant,build-fuzz,$(FUZZ_OPT)))
build-fuzz/%: CC = clang
build-fuzz/fuzz_%: build-fuzz/tests/fuzz/fuzz_%.o build-fuzz/libcnet.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
$(FUZZERS:%=build-fuzz/tests/fuzz/fuzz_%.o): tests/fuzz/fuzz.h
# stb_image instrumented for fuzz_imgdir: ASan and array bounds, not the rest of UBSan.
build-fuzz/fuzz_imgdir: build-fuzz/stb_image.o
build-fuzz/stb_image.o: tests/fuzz/stb_image.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -fno-sanitize=undefined -fsanitize=array-bounds -w -c $< -o $@

fuzz:
	@$(MAKE) --no-print-directory deps CHECKERS=1
	@$(MAKE) --no-print-directory $(FUZZERS:%=build-fuzz/fuzz_%)
	./tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

# valgrind cannot run AVX-512 code: this build has no -march=native.
$(eval $(call variant,build-mem,-O1 -g))
build-mem/mkdata: tests/memcheck/mkdata.c build-mem/libcnet.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

memcheck:
	@$(MAKE) --no-print-directory deps CHECKERS=1
	@$(MAKE) --no-print-directory EXTRA_CFLAGS=-Werror build-mem/cnet build-mem/mkdata
	./tests/memcheck/run.sh

# Static checks: cppcheck and clang-tidy (.clang-tidy), then reference loops
# between folders in build/'s objects (scripts/lint.sh builds ./cnet first).
lint:
	@$(MAKE) --no-print-directory deps LINT=1
	@./scripts/lint.sh

clean:
	rm -rf build build-san build-tsan build-fuzz build-mem cnet

.PHONY: all deps check test demo bench lint clean sanitize tsan fuzz memcheck
