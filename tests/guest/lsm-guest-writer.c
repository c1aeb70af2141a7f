/*
 * lsm-guest-writer: the workload of the test guest, started by /init.
 *
 * For every disk (virtio vd*, Xen xvd*, SCSI/ATA sd*) it rewrites the first
 * N blocks (lsm.blocks=N on the kernel command line) over and over, one
 * generation at a time, round robin across disks. A generation is
 * acknowledged on the ack channel (lsm.ack=DEVICE, default /dev/ttyS1) as
 *     lsm-ack <disk-id> <generation>
 * only once all its blocks are written and fdatasync() returned, so the host
 * may hold the guest to every generation it has seen acknowledged.
 * lsm.sleep=MS pauses MS milliseconds after each round over the disks, to
 * bound how fast the guest dirties its disks on a slow link (default 0).
 * lsm.mem=MIB fills MIB of memory with non-zero data once (a child process
 * holds it), so a migration has that much RAM to move: QEMU sends zero pages
 * as a flag, and an idle guest's RAM is mostly zero. lsm.memdirty=1 makes
 * that child rewrite it over and over, as fast as it can.
 *
 * The disk id is the disk's serial (virtio) when it has one, else its block
 * device name (xvda, sda): Xen's PV and emulated IDE disks have no serial,
 * and their names stay the same across a migration.
 *
 * The ack channel may be the console (hvc0 of a Xen PV/PVH guest, ttyS0 of
 * an HVM guest) that also carries kernel messages: every ack is one write of
 * one whole line, and readers take only lines that are exactly an ack, so a
 * line garbled by a kernel message is skipped, never misread.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block_format.h"

#define MAX_DISKS 16
#define DEFAULT_ACK_TTY "/dev/ttyS1"
#define STATUS_EVERY_SECONDS 10

struct disk {
    char name[32];                  /* vda, xvda, sda */
    char id[LSM_DISK_ID_SIZE];      /* virtio serial, else the name */
    int fd;
    uint64_t blocks;                /* region size actually used */
    uint64_t gen;                   /* last generation completed */
};

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lsm-guest-writer: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(ap);
}

/* Reads a one-line sysfs file into BUF without its trailing whitespace. */
static int read_sysfs(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(buf, (int)size, f))
        buf[0] = '\0';
    fclose(f);
    size_t n = strlen(buf);
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    return 0;
}

struct options {
    uint64_t blocks;     /* lsm.blocks= */
    char ack_tty[128];   /* lsm.ack= */
    unsigned sleep_ms;   /* lsm.sleep= */
    unsigned mem_mib;    /* lsm.mem= */
    int mem_dirty;       /* lsm.memdirty= */
};

static void parse_cmdline(struct options *o)
{
    char cmdline[4096];
    o->blocks = LSM_DEFAULT_BLOCKS;
    o->sleep_ms = 0;
    o->mem_mib = 0;
    o->mem_dirty = 0;
    snprintf(o->ack_tty, sizeof o->ack_tty, "%s", DEFAULT_ACK_TTY);
    if (read_sysfs("/proc/cmdline", cmdline, sizeof cmdline) != 0)
        return;
    for (char *tok = strtok(cmdline, " "); tok; tok = strtok(NULL, " ")) {
        if (strncmp(tok, "lsm.blocks=", 11) == 0) {
            char *end;
            unsigned long long n = strtoull(tok + 11, &end, 10);
            if (*end == '\0' && n > 0)
                o->blocks = n;
            else
                say("ignoring bad %s", tok);
        } else if (strncmp(tok, "lsm.sleep=", 10) == 0) {
            char *end;
            unsigned long n = strtoul(tok + 10, &end, 10);
            if (*end == '\0' && tok[10] != '\0' && n <= 60000)
                o->sleep_ms = (unsigned)n;
            else
                say("ignoring bad %s", tok);
        } else if (strncmp(tok, "lsm.mem=", 8) == 0) {
            char *end;
            unsigned long n = strtoul(tok + 8, &end, 10);
            if (*end == '\0' && tok[8] != '\0' && n <= (1ul << 20))
                o->mem_mib = (unsigned)n;
            else
                say("ignoring bad %s", tok);
        } else if (strcmp(tok, "lsm.memdirty=1") == 0) {
            o->mem_dirty = 1;
        } else if (strncmp(tok, "lsm.ack=/dev/", 13) == 0 &&
                   strlen(tok + 8) < sizeof o->ack_tty) {
            snprintf(o->ack_tty, sizeof o->ack_tty, "%s", tok + 8);
        } else if (strncmp(tok, "lsm.ack=", 8) == 0) {
            say("ignoring bad %s (want lsm.ack=/dev/NAME)", tok);
        }
    }
}

/* Continue after whatever generation block 0 already holds, so a guest booted
 * again on the same disk never writes a generation the host saw acked before. */
static uint64_t last_generation(struct disk *d, unsigned char *buf)
{
    if (pread(d->fd, buf, LSM_BLOCK_SIZE, 0) != LSM_BLOCK_SIZE)
        return 0;
    struct lsm_block_header h = lsm_block_header(buf);
    if (!lsm_block_intact(buf) || h.index != 0)
        return 0;
    return h.generation;
}

static int open_disk(struct disk *d, const char *name, uint64_t want,
                     unsigned char *buf)
{
    char path[320], value[64];

    if (strlen(name) >= sizeof d->name)
        return -1;
    memcpy(d->name, name, strlen(name) + 1);
    snprintf(path, sizeof path, "/sys/block/%s/serial", name);
    if (read_sysfs(path, value, sizeof value) != 0 || value[0] == '\0')
        memcpy(value, d->name, sizeof d->name);
    /* Longer ids would not fit the block header; virtio caps serials at 20. */
    snprintf(d->id, sizeof d->id, "%.*s", (int)sizeof d->id - 1, value);
    /* The ack line is space-separated; keep the id one printable word. */
    for (char *c = d->id; *c; c++)
        if (!isgraph((unsigned char)*c))
            *c = '_';

    snprintf(path, sizeof path, "/sys/block/%s/size", name);
    if (read_sysfs(path, value, sizeof value) != 0) {
        say("%s: cannot read %s", name, path);
        return -1;
    }
    uint64_t disk_blocks = strtoull(value, NULL, 10) * 512 / LSM_BLOCK_SIZE;
    d->blocks = want < disk_blocks ? want : disk_blocks;
    if (d->blocks == 0) {
        say("%s: disk smaller than one block, skipped", name);
        return -1;
    }

    /* devtmpfs creates the node asynchronously; give it a moment. */
    snprintf(path, sizeof path, "/dev/%s", name);
    for (int tries = 0; (d->fd = open(path, O_RDWR | O_DIRECT)) < 0; tries++) {
        if (tries == 50) {
            say("%s: open: %s", path, strerror(errno));
            return -1;
        }
        usleep(100 * 1000);
    }
    d->gen = last_generation(d, buf);
    say("%s: id %s, %" PRIu64 " blocks, continuing after generation %" PRIu64,
        name, d->id, d->blocks, d->gen);
    return 0;
}

/* Whole disks only: partitions live below their disk in /sys/block. */
static int is_disk_name(const char *name)
{
    return strncmp(name, "vd", 2) == 0 || strncmp(name, "xvd", 3) == 0 ||
           strncmp(name, "sd", 2) == 0;
}

static int find_disks(struct disk *disks, uint64_t want, unsigned char *buf)
{
    struct dirent **names;
    int n = scandir("/sys/block", &names, NULL, alphasort);
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (is_disk_name(names[i]->d_name) && count < MAX_DISKS &&
            open_disk(&disks[count], names[i]->d_name, want, buf) == 0)
            count++;
        free(names[i]);
    }
    if (n >= 0)
        free(names);
    return count;
}

/* The ack channel must pass bytes through untouched (no CR added). */
static int open_ack_tty(const char *path)
{
    int fd = open(path, O_WRONLY | O_NOCTTY);
    if (fd < 0)
        return -1;
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
    return fd;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_generation(struct disk *d, unsigned char *buf)
{
    uint64_t gen = d->gen + 1;
    for (uint64_t i = 0; i < d->blocks; i++) {
        lsm_block_fill(buf, i, gen, d->id);
        ssize_t n = pwrite(d->fd, buf, LSM_BLOCK_SIZE, (off_t)(i * LSM_BLOCK_SIZE));
        if (n != LSM_BLOCK_SIZE) {
            say("%s: write of block %" PRIu64 " failed: %s", d->name, i,
                n < 0 ? strerror(errno) : "short write");
            return -1;
        }
    }
    if (fdatasync(d->fd) != 0) {
        say("%s: fdatasync: %s", d->name, strerror(errno));
        return -1;
    }
    d->gen = gen;
    return 0;
}

/* A child fills MIB of memory, each page with its own non-zero pattern, says
 * so and keeps it until the guest ends; with DIRTY it goes on rewriting it. */
static void fill_memory(unsigned mib, int dirty)
{
    if (mib == 0 || fork() != 0)
        return;
    size_t size = (size_t)mib << 20;
    unsigned char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        say("lsm.mem=%u: %s", mib, strerror(errno));
        _exit(1);
    }
    for (unsigned pass = 0;; pass++) {
        for (size_t page = 0; page < size / 4096; page++)
            memset(mem + page * 4096, (int)((page + pass) % 255) + 1, 4096);
        if (pass == 0)
            say("filled %u MiB of memory%s", mib, dirty ? ", rewriting it" : "");
        if (!dirty)
            for (;;)
                pause();
    }
}

int main(void)
{
    static struct disk disks[MAX_DISKS];
    unsigned char *buf;

    /* O_DIRECT wants buffers aligned to the logical block size. */
    if (posix_memalign((void **)&buf, LSM_BLOCK_SIZE, LSM_BLOCK_SIZE) != 0) {
        say("out of memory");
        return 1;
    }
    struct options opt;
    parse_cmdline(&opt);
    fill_memory(opt.mem_mib, opt.mem_dirty);
    int count;
    /* ATA disks show up a moment after their driver loads. */
    while ((count = find_disks(disks, opt.blocks, buf)) == 0) {
        say("no disk found yet, retrying");
        sleep(1);
    }
    int ack = open_ack_tty(opt.ack_tty);
    if (ack < 0) {
        say("%s: %s; boot the guest with a second serial port or set lsm.ack=",
            opt.ack_tty, strerror(errno));
        return 1;
    }
    say("acks go to %s, %u ms sleep after each round", opt.ack_tty, opt.sleep_ms);

    time_t last_status = time(NULL);
    for (;;) {
        for (int i = 0; i < count; i++) {
            char line[96];
            if (write_generation(&disks[i], buf) != 0)
                return 1;
            int len = snprintf(line, sizeof line, "lsm-ack %s %" PRIu64 "\n",
                               disks[i].id, disks[i].gen);
            if (write_all(ack, line, (size_t)len) != 0) {
                say("%s: %s", opt.ack_tty, strerror(errno));
                return 1;
            }
        }
        if (opt.sleep_ms > 0) {
            struct timespec ts = { opt.sleep_ms / 1000, (long)(opt.sleep_ms % 1000) * 1000000L };
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
        if (time(NULL) - last_status >= STATUS_EVERY_SECONDS) {
            last_status = time(NULL);
            for (int i = 0; i < count; i++)
                say("%s: generation %" PRIu64, disks[i].id, disks[i].gen);
        }
    }
}
