# bpc - a compiler from .bp network descriptions to specialized C.
#
#   make            build build/bpc and build/libbprt.a
#   make demo       build, then run the demo (README.md)
#   make test       build and run the Criterion test suite
#   make install    install bpc, libbprt.a and bprt.h under $(DESTDIR)$(PREFIX)
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
RUNTIME_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(wildcard runtime/*.c))
TEST_OBJ     := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/*.c))

BPC   := $(BUILD)/bpc
LIB   := $(BUILD)/libbprt.a
TESTS := $(BUILD)/run_tests

.PHONY: all deps demo test check-examples install uninstall clean
.DELETE_ON_ERROR:

all: $(BPC) $(LIB)

# ---- build dependencies: install what is missing (Debian) ----
deps:
	@missing=""; \
	command -v flex >/dev/null 2>&1 || missing="$$missing flex"; \
	command -v bison >/dev/null 2>&1 || missing="$$missing bison"; \
	[ -f /usr/include/criterion/criterion.h ] || missing="$$missing libcriterion-dev"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "deps: installing$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null || \
	  { echo "deps: could not install$$missing; install them and run make again" >&2; exit 1; }; \
	fi

# ---- the compiler ----
$(BUILD)/grammar/bp.tab.c $(BUILD)/grammar/bp.tab.h: grammar/bp.y | deps
	@mkdir -p $(@D)
	bison -Wall -Werror -o $(BUILD)/grammar/bp.tab.c --defines=$(BUILD)/grammar/bp.tab.h $<

$(BUILD)/grammar/lex.yy.c $(BUILD)/grammar/lex.yy.h: grammar/bp.l | deps
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

test: $(BPC) $(LIB) $(TESTS)
	$(TESTS) --jobs 2

# ---- demo ----
check-examples: $(BPC)
	@for f in examples/*.bp; do $(BPC) --check $$f && echo "ok  $$f"; done

demo: deps all check-examples

# ---- install ----
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BPC) $(DESTDIR)$(PREFIX)/bin/bpc
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libbprt.a
	install -m 644 runtime/bprt.h $(DESTDIR)$(PREFIX)/include/bprt.h

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/bpc $(DESTDIR)$(PREFIX)/lib/libbprt.a \
	      $(DESTDIR)$(PREFIX)/include/bprt.h

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
