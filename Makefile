# lsm: live migration of VMs with local storage.
# `make` builds the tools, `make check` builds and runs every test,
# `make demo` migrates a test guest between two local hosts.

BUILD   ?= build
PREFIX  ?= /usr/local
CXX     ?= g++
CXXFLAGS ?= -O2 -g
LSM_VERSION := $(shell cat VERSION)

override CXXFLAGS += -std=c++20 -Wall -Wextra -Werror -pthread -Ilib \
                     -MMD -MP -DLSM_VERSION='"$(LSM_VERSION)"'
# The Xen backend uses the toolstack libraries of Debian's libxen-dev.
LDLIBS  := -lxenlight -lxenguest -lxenctrl -lxenstore -lxentoollog -pthread

TOOLS     := lsm-dmstate lsm-mirror lsm-ramstream lsm-resume lsm-progress
LIB_SRCS  := $(shell find lib -name '*.cpp' ! -name '*_test.cpp' ! -path 'lib/testing/*' | sort)
TEST_SRCS := $(shell find lib -name '*_test.cpp' -o -path 'lib/testing/*.cpp' | sort)
LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/obj/%.o)
LIBLSM    := $(BUILD)/liblsm.a
TOOL_BINS := $(TOOLS:%=$(BUILD)/bin/%)
UNIT      := $(BUILD)/bin/lsm-unit-tests

.PHONY: all deps check check-fast unit demo bench man install deb clean
all: $(TOOL_BINS) man

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

# Xen's xenctrl.h and xenguest.h use anonymous structs, a GNU extension.
$(BUILD)/obj/lib/xen/%.o: override CXXFLAGS += -std=gnu++20

$(LIBLSM): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# Each tool is the objects of tools/NAME/ linked against liblsm.
define tool_rule
$(BUILD)/bin/$(1): $(patsubst %.cpp,$(BUILD)/obj/%.o,$(wildcard tools/$(1)/*.cpp)) $(LIBLSM)
	@mkdir -p $$(@D)
	$$(CXX) $$(CXXFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

# Man pages, section 8: POD beside each tool and beside lsm-migrate.sh,
# rendered by pod2man (Debian's perl); any POD error fails the build.
MAN_DIR   := $(BUILD)/man
MAN_PAGES := $(TOOLS:%=$(MAN_DIR)/%.8) $(MAN_DIR)/lsm-migrate.sh.8
POD2MAN   := pod2man --section=8 --center='lsm' --release='lsm $(LSM_VERSION)' --errors=die

define man_rule
$(MAN_DIR)/$(1).8: $(2) VERSION
	@mkdir -p $$(@D)
	$$(POD2MAN) --name=$$(shell echo '$(1)' | tr a-z A-Z) $$< $$@
endef
$(foreach t,$(TOOLS),$(eval $(call man_rule,$(t),tools/$(t)/$(t).pod)))
$(eval $(call man_rule,lsm-migrate.sh,scripts/lsm-migrate.sh.pod))

man: $(MAN_PAGES)

# make bench's reference: the bare QMP sequence, built from bench/*.cpp.
BENCH_REF := $(BUILD)/bench/lsm-bench-reference
$(BENCH_REF): $(patsubst %.cpp,$(BUILD)/obj/%.o,$(wildcard bench/*.cpp)) $(LIBLSM)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(TEST_OBJS) $(LIBLSM)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -o $@ $^ -lgtest_main -lgtest $(LDLIBS)

include tests/guest/guest.mk
include tests/xenlab/xenlab.mk

deps:
	@scripts/install-deps.sh

unit: $(UNIT)
	$(UNIT)

check: deps
	$(MAKE) all guest $(UNIT) xenlab
	tests/run-all.sh

check-fast: deps
	$(MAKE) all guest $(UNIT)
	LSM_SKIP_LAB=1 tests/run-all.sh

demo: deps
	$(MAKE) all guest
	scripts/demo.sh

bench: deps
	$(MAKE) all guest $(BENCH_REF)
	bench/migrate.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(TOOL_BINS) scripts/lsm-migrate.sh $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -D -m 644 completion/lsm-migrate.sh.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/lsm-migrate.sh
	install -d $(DESTDIR)$(PREFIX)/share/lsm/ansible/library $(DESTDIR)$(PREFIX)/share/lsm/ansible/filter_plugins
	install -m 644 ansible/evacuate.yml ansible/README.md $(DESTDIR)$(PREFIX)/share/lsm/ansible/
	install -m 644 ansible/library/*.py $(DESTDIR)$(PREFIX)/share/lsm/ansible/library/
	install -m 644 ansible/filter_plugins/*.py $(DESTDIR)$(PREFIX)/share/lsm/ansible/filter_plugins/

# The Debian package, built by debhelper in a copy under build/deb/ (the
# checkout stays clean) and checked by lintian: build/deb/lsm_VERSION_ARCH.deb.
deb:
	scripts/build-deb.sh $(BUILD)/deb

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(wildcard $(BUILD)/obj/tools/*/*.d $(BUILD)/obj/bench/*.d)
