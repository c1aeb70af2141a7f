# Nested Xen lab: dom0 image, Xen hypervisor and dom0 kernel in build/xenlab/.
# Included by the top-level Makefile; also works alone from the repo root:
#   make -f tests/xenlab/xenlab.mk
# Needs root, debootstrap and the Debian mirror; build-dom0.sh is cached (a
# stamp of its inputs), so the target is phony and cheap when up to date.

BUILD ?= build
XENLAB_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
XENLAB_OUT := $(BUILD)/xenlab

# Including this file never changes what a bare `make` builds.
xenlab_saved_goal := $(.DEFAULT_GOAL)

.PHONY: xenlab xenlab-clean
xenlab:
	$(XENLAB_DIR)/build-dom0.sh $(XENLAB_OUT)

xenlab-clean:
	rm -rf $(XENLAB_OUT)

.DEFAULT_GOAL := $(if $(filter 1,$(words $(MAKEFILE_LIST))),xenlab,$(xenlab_saved_goal))
