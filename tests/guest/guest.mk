# Test guest: kernel, initramfs, in-guest writer and host-side verifier.
# Included by the top-level Makefile; also works alone from the repo root:
#   make -f tests/guest/guest.mk
# The kernel cache is kept out of guest-clean: fetching it needs the mirror.

BUILD ?= build
GUEST_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
GUEST_OUT := $(BUILD)/guest
GUEST_KERNEL_DIR := $(BUILD)/cache/kernel
GUEST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror

# Remember the includer's default goal so including this file never changes
# what a bare `make` builds.
guest_saved_goal := $(.DEFAULT_GOAL)

.PHONY: guest guest-clean
guest: $(GUEST_KERNEL_DIR)/vmlinuz $(GUEST_OUT)/lsm-guest-writer \
       $(GUEST_OUT)/lsm-guest-verify $(GUEST_OUT)/initramfs.cpio.gz

# No prerequisites: the script is idempotent and vmlinuz marks a full unpack.
$(GUEST_KERNEL_DIR)/vmlinuz:
	$(GUEST_DIR)/fetch-kernel.sh $(GUEST_KERNEL_DIR)

# Static, because the guest has no libc besides what busybox carries inside.
$(GUEST_OUT)/lsm-guest-writer: $(GUEST_DIR)/lsm-guest-writer.c $(GUEST_DIR)/block_format.h
	@mkdir -p $(@D)
	$(CC) -static $(GUEST_CFLAGS) -o $@ $<

$(GUEST_OUT)/lsm-guest-verify: $(GUEST_DIR)/lsm-verify.c $(GUEST_DIR)/block_format.h
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -o $@ $<

$(GUEST_OUT)/initramfs.cpio.gz: $(GUEST_DIR)/build-initramfs.sh $(GUEST_DIR)/init \
                                $(GUEST_OUT)/lsm-guest-writer $(GUEST_KERNEL_DIR)/vmlinuz
	$(GUEST_DIR)/build-initramfs.sh $@ $(GUEST_KERNEL_DIR) $(GUEST_OUT)/lsm-guest-writer

guest-clean:
	rm -rf $(GUEST_OUT)

.DEFAULT_GOAL := $(if $(filter 1,$(words $(MAKEFILE_LIST))),guest,$(guest_saved_goal))
