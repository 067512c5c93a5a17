# cnet - build, test and run.
#   make            build ./cnet
#   make check      install missing packages, build, run the Check suite
#   make demo       install missing packages, build, train and evaluate cfg/entropy_ae.cfg
#   make bench      throughput beside the PyTorch peer
#   make DEBUG=1    -O0 -g with AddressSanitizer and UBSan
CC      ?= cc
PKGS     = openblas zlib stb
WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
CPPFLAGS = -Iinclude -Isrc -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
ifeq ($(DEBUG),1)
OPT      = -O0 -g -fsanitize=address,undefined -fno-omit-frame-pointer
else
OPT      = -O3 -march=native -g
endif
# Recursive (=) so pkg-config runs after `make deps` has installed it.
CFLAGS   = -std=c11 $(OPT) -fno-math-errno $(FASTMATH) $(WARN) $(EXTRA_CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TESTLIBS = $(shell pkg-config --libs check 2>/dev/null)

LIB_SRC  = $(filter-out src/main.c src/cli_%.c,$(wildcard src/*.c)) $(wildcard layers/*.c losses/*.c optim/*.c data/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=build/%.o)
TEST_SRC = $(wildcard tests/*.c)
TEST_OBJ = $(TEST_SRC:%.c=build/%.o)
HEADERS  = $(wildcard include/cnet/*.h src/*.h layers/*.h losses/*.h data/*.h tests/*.h)

all: cnet

build/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Vector exp/tanh from libmvec for the activation kernels (see src/act.c).
build/src/act.o: FASTMATH = -ffast-math

build/libcnet.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

CLI_OBJ  = $(patsubst %.c,build/%.o,src/main.c $(wildcard src/cli_*.c))

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
	/usr/bin/python3 bench/run.py

lint:
	@./scripts/lint.sh

clean:
	rm -rf build cnet

.PHONY: all deps check test demo bench lint clean
