/*
 * On-disk format of the blocks the test guest writes, shared by the guest
 * writer and the host-side verifier so the two can never disagree.
 *
 * Every block is self-describing: a header naming the block's position,
 * generation and disk, a payload that is a pure function of (index,
 * generation), and a trailing checksum over everything before it. A block
 * assembled from sectors of two different writes (a torn write) therefore
 * fails the checksum, and the payload tells which sectors do not belong.
 */
#ifndef LSM_BLOCK_FORMAT_H
#define LSM_BLOCK_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LSM_BLOCK_SIZE 4096u
#define LSM_SECTOR_SIZE 512u
#define LSM_DEFAULT_BLOCKS 256u
/* "LSMBLK01" read as a little-endian integer; bump the digits on any change. */
#define LSM_BLOCK_MAGIC 0x31304b4c424d534cull
/* virtio-blk serials are at most 20 bytes; room to spare, always NUL-ended. */
#define LSM_DISK_ID_SIZE 32u

struct lsm_block_header {
    uint64_t magic;
    uint64_t index;      /* position of the block in the region */
    uint64_t generation; /* pass of the writer over the region, from 1 */
    char disk_id[LSM_DISK_ID_SIZE];
};

#define LSM_PAYLOAD_OFFSET sizeof(struct lsm_block_header)
#define LSM_CHECKSUM_OFFSET (LSM_BLOCK_SIZE - sizeof(uint64_t))

/* FNV-1a, 64 bit. Not cryptographic: it only has to catch accidents. */
static inline uint64_t lsm_fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* splitmix64 step: cheap, well mixed, and identical on every build. */
static inline uint64_t lsm_mix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The 8 payload bytes at block offset OFF (a multiple of 8) for (index, gen).
 * Seeding per word keeps every sector checkable on its own. */
static inline uint64_t lsm_payload_word(uint64_t index, uint64_t gen, size_t off)
{
    uint64_t state = (index * 0x9e3779b97f4a7c15ull) ^ (gen << 20) ^ off;
    return lsm_mix64(&state);
}

static inline uint64_t lsm_block_checksum(const unsigned char *block)
{
    return lsm_fnv1a64(block, LSM_CHECKSUM_OFFSET);
}

static inline uint64_t lsm_load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void lsm_store64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, sizeof v);
}

/* Fills BLOCK (LSM_BLOCK_SIZE bytes) completely. DISK_ID is truncated to fit. */
static inline void lsm_block_fill(unsigned char *block, uint64_t index,
                                  uint64_t gen, const char *disk_id)
{
    struct lsm_block_header h;
    memset(&h, 0, sizeof h);
    h.magic = LSM_BLOCK_MAGIC;
    h.index = index;
    h.generation = gen;
    strncpy(h.disk_id, disk_id, LSM_DISK_ID_SIZE - 1);
    memcpy(block, &h, sizeof h);
    for (size_t off = LSM_PAYLOAD_OFFSET; off < LSM_CHECKSUM_OFFSET; off += 8)
        lsm_store64(block + off, lsm_payload_word(index, gen, off));
    lsm_store64(block + LSM_CHECKSUM_OFFSET, lsm_block_checksum(block));
}

/* Copies the header out (the block buffer need not be aligned for it). */
static inline struct lsm_block_header lsm_block_header(const unsigned char *block)
{
    struct lsm_block_header h;
    memcpy(&h, block, sizeof h);
    h.disk_id[LSM_DISK_ID_SIZE - 1] = '\0';
    return h;
}

/* True when BLOCK is intact: right magic and a matching checksum. */
static inline int lsm_block_intact(const unsigned char *block)
{
    return lsm_load64(block) == LSM_BLOCK_MAGIC &&
           lsm_load64(block + LSM_CHECKSUM_OFFSET) == lsm_block_checksum(block);
}

#endif
