/* The floor for any capture tool: read() a classic pcap in large blocks and
 * step over every record header, touching nothing else. Prints the record
 * count and captured bytes so a run can be checked against capinfos. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define BLOCK (8u << 20)

static uint32_t rd32(const unsigned char *p, int big) {
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: recwalk FILE.pcap\n"); return 2; }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror(argv[1]); return 1; }
    unsigned char *buf = malloc(2 * BLOCK);
    size_t have = 0, at = 0;
    uint64_t records = 0, bytes = 0;
    int big = -1, eof = 0;
    for (;;) {
        if (!eof && have - at < 65536 + 16) {
            memmove(buf, buf + at, have - at);
            have -= at; at = 0;
            ssize_t n = read(fd, buf + have, 2 * BLOCK - have);
            if (n < 0) { perror("read"); return 1; }
            if (n == 0) eof = 1;
            have += (size_t)n;
        }
        if (big < 0) {
            if (have < 24) { fprintf(stderr, "too short for a pcap header\n"); return 1; }
            uint32_t m = rd32(buf, 0);
            if (m == 0xa1b2c3d4u || m == 0xa1b23c4du) big = 0;
            else if (m == 0xd4c3b2a1u || m == 0x4d3cb2a1u) big = 1;
            else { fprintf(stderr, "not a classic pcap\n"); return 1; }
            at = 24;
            continue;
        }
        if (have - at < 16) break;
        uint32_t caplen = rd32(buf + at + 8, big);
        if (caplen > BLOCK) { fprintf(stderr, "absurd record length at %zu\n", at); return 1; }
        if (have - at < 16 + (size_t)caplen) {
            if (eof) break;
            /* refill: the record spans the buffer's end */
            memmove(buf, buf + at, have - at);
            have -= at; at = 0;
            ssize_t n = read(fd, buf + have, 2 * BLOCK - have);
            if (n < 0) { perror("read"); return 1; }
            if (n == 0) eof = 1;
            have += (size_t)n;
            continue;
        }
        records++;
        bytes += caplen;
        at += 16 + caplen;
    }
    printf("records=%llu captured_bytes=%llu\n", (unsigned long long)records, (unsigned long long)bytes);
    return 0;
}
