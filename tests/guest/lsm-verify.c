/*
 * lsm-guest-verify: checks a raw disk image written by lsm-guest-writer.
 *
 *   lsm-guest-verify [--blocks N] --acked GEN [--id DISKID] IMAGE.raw
 *
 * Exit 0: every block of the region is intact, in place, from DISKID, no
 * older than the acknowledged generation GEN, and no completed write is
 * missing (see check_order). Exit 1: the image is wrong; one line names the
 * first bad block and what is wrong with it. Exit 2: bad usage or unreadable
 * image. Only check images of a stopped guest: a live one may show a block
 * that is being written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block_format.h"

_Static_assert(LSM_PAYLOAD_OFFSET % 8 == 0, "payload must be word aligned");

static const char *prog = "lsm-guest-verify";
static const char *image;

static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: %s [--blocks N] --acked GEN [--id DISKID] IMAGE.raw\n",
            prog);
    va_end(ap);
    exit(2);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* Writes "2", "2-4" or "2, 5-7" for the set bits of MASK into OUT. */
static void format_sectors(unsigned mask, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (unsigned s = 0; s < 32 && len < size; s++) {
        if (!(mask >> s & 1) || (s > 0 && (mask >> (s - 1) & 1)))
            continue;
        unsigned e = s;
        while (e + 1 < 32 && (mask >> (e + 1) & 1))
            e++;
        len += (size_t)snprintf(out + len, size - len, e > s ? "%s%u-%u" : "%s%u",
                                len ? ", " : "", s, e);
    }
}

/* Explains a checksum mismatch: the payload says which sectors are not from
 * the generation the header claims, which tells a torn write from corruption. */
static void explain_bad_checksum(const unsigned char *b, char *why, size_t size)
{
    struct lsm_block_header h = lsm_block_header(b);
    const unsigned sectors = LSM_BLOCK_SIZE / LSM_SECTOR_SIZE;
    unsigned foreign = 0; /* bit per sector none of whose words match */
    size_t first_diff = 0;
    int partly_wrong = 0;

    for (unsigned s = 0; s < sectors; s++) {
        size_t lo = s == 0 ? LSM_PAYLOAD_OFFSET : s * LSM_SECTOR_SIZE;
        size_t hi = (s + 1) * LSM_SECTOR_SIZE;
        if (hi > LSM_CHECKSUM_OFFSET)
            hi = LSM_CHECKSUM_OFFSET;
        unsigned words = 0, wrong = 0;
        for (size_t off = lo; off < hi; off += 8, words++) {
            if (lsm_load64(b + off) != lsm_payload_word(h.index, h.generation, off)) {
                if (!first_diff)
                    first_diff = off;
                wrong++;
            }
        }
        if (wrong == words)
            foreign |= 1u << s;
        else if (wrong)
            partly_wrong = 1;
    }

    /* Whole sectors from elsewhere, the rest intact: a write torn at sector
     * granularity. Anything finer-grained is plain corruption. */
    if (foreign && foreign != (1u << sectors) - 1 && !partly_wrong) {
        char list[64];
        format_sectors(foreign, list, sizeof list);
        int many = (foreign & (foreign - 1)) != 0;
        snprintf(why, size,
                 "torn write: %s %s %s not from generation %" PRIu64
                 " like the rest (checksum mismatch)",
                 many ? "sectors" : "sector", list, many ? "are" : "is", h.generation);
    } else if (first_diff) {
        snprintf(why, size,
                 "bad checksum: data differs from generation %" PRIu64 " at byte %zu",
                 h.generation, first_diff);
    } else {
        snprintf(why, size, "bad checksum: header or checksum field corrupted");
    }
}

static int all_zero(const unsigned char *b)
{
    for (size_t i = 0; i < LSM_BLOCK_SIZE; i++)
        if (b[i])
            return 0;
    return 1;
}

/* Returns 0 when block I is good on its own, else writes the reason. */
static int check_block(const unsigned char *b, uint64_t i, uint64_t acked,
                       const char *id, char *why, size_t size)
{
    struct lsm_block_header h = lsm_block_header(b);

    if (h.magic != LSM_BLOCK_MAGIC) {
        snprintf(why, size, all_zero(b) ? "never written (all zeros)"
                                        : "bad magic: not a block of lsm-guest-writer");
        return -1;
    }
    if (!lsm_block_intact(b)) {
        explain_bad_checksum(b, why, size);
        return -1;
    }
    if (h.index != i) {
        snprintf(why, size, "holds block %" PRIu64 " (misplaced write)", h.index);
        return -1;
    }
    if (id && strcmp(h.disk_id, id) != 0) {
        snprintf(why, size, "belongs to disk '%s', not '%s'", h.disk_id, id);
        return -1;
    }
    if (h.generation < acked) {
        snprintf(why, size,
                 "generation %" PRIu64 " is older than acknowledged generation %" PRIu64
                 " (lost write)",
                 h.generation, acked);
        return -1;
    }
    return 0;
}

/* The writer rewrites the region from block 0 upwards, one write at a time,
 * so generations never increase with the index. A block older than the one
 * after it lost a write the guest had completed, even if it is acked. */
static int check_order(const uint64_t *gens, uint64_t n, uint64_t *bad)
{
    for (uint64_t i = 0; i + 1 < n; i++) {
        if (gens[i] < gens[i + 1]) {
            *bad = i;
            return -1;
        }
    }
    return 0;
}

static const char *option_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        usage_error("%s needs a value", argv[*i]);
    return argv[++*i];
}

int main(int argc, char **argv)
{
    uint64_t blocks = LSM_DEFAULT_BLOCKS, acked = 0;
    int have_acked = 0;
    const char *id = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--blocks") == 0) {
            if (parse_u64(option_value(argc, argv, &i), &blocks) || blocks == 0)
                usage_error("--blocks needs a positive number");
        } else if (strcmp(a, "--acked") == 0) {
            if (parse_u64(option_value(argc, argv, &i), &acked))
                usage_error("--acked needs a generation number");
            have_acked = 1;
        } else if (strcmp(a, "--id") == 0) {
            id = option_value(argc, argv, &i);
            if (!*id || strlen(id) >= LSM_DISK_ID_SIZE)
                usage_error("--id needs a disk id of 1-%u bytes", LSM_DISK_ID_SIZE - 1);
        } else if (a[0] == '-' && a[1]) {
            usage_error("unknown option %s", a);
        } else if (image) {
            usage_error("only one image, got %s and %s", image, a);
        } else {
            image = a;
        }
    }
    if (!image)
        usage_error("no image given");
    if (!have_acked)
        usage_error("--acked is required (0 if nothing was acknowledged)");
    /* Guards the allocation below; 4 GiB is far beyond any test region. */
    if (blocks > (1ull << 20))
        usage_error("--blocks %" PRIu64 " is too large (at most %llu)", blocks, 1ull << 20);

    int fd = open(image, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, image, strerror(errno));
        return 2;
    }
    uint64_t *gens = calloc(blocks, sizeof *gens);
    static unsigned char b[LSM_BLOCK_SIZE];
    if (!gens) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 2;
    }

    char first[256] = "";
    uint64_t bad = 0, min = UINT64_MAX, max = 0;
    for (uint64_t i = 0; i < blocks; i++) {
        ssize_t n = pread(fd, b, LSM_BLOCK_SIZE, (off_t)(i * LSM_BLOCK_SIZE));
        if (n < 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, image, strerror(errno));
            return 2;
        }
        if (n != LSM_BLOCK_SIZE) {
            fprintf(stderr, "%s: %s: block %" PRIu64 ": image ends there, region has %" PRIu64 " blocks\n",
                    prog, image, i, blocks);
            return 1;
        }
        char why[200];
        if (check_block(b, i, acked, id, why, sizeof why) != 0) {
            if (!bad++)
                snprintf(first, sizeof first, "block %" PRIu64 ": %s", i, why);
            continue;
        }
        gens[i] = lsm_block_header(b).generation;
        min = gens[i] < min ? gens[i] : min;
        max = gens[i] > max ? gens[i] : max;
    }
    if (bad) {
        if (bad > 1)
            fprintf(stderr, "%s: %s: %s; %" PRIu64 " bad blocks in all\n", prog, image,
                    first, bad);
        else
            fprintf(stderr, "%s: %s: %s\n", prog, image, first);
        return 1;
    }
    uint64_t lost;
    if (check_order(gens, blocks, &lost) != 0) {
        fprintf(stderr,
                "%s: %s: block %" PRIu64 ": generation %" PRIu64
                " is older than block %" PRIu64 "'s %" PRIu64
                " (a completed write was lost)\n",
                prog, image, lost, gens[lost], lost + 1, gens[lost + 1]);
        return 1;
    }
    printf("%s: %" PRIu64 " blocks OK, generations %" PRIu64 "-%" PRIu64
           " (acked %" PRIu64 ")%s%s\n",
           image, blocks, min, max, acked, id ? ", disk " : "", id ? id : "");
    free(gens);
    close(fd);
    return 0;
}
