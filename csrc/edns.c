#include "edns.h"

void nm_opt_begin(nm_opt_iter *it, const uint8_t *rdata, size_t rdlen)
{
    it->p = rdata;
    it->end = rdata + rdlen;
}

int nm_opt_next(nm_opt_iter *it, uint16_t *code, const uint8_t **data, uint16_t *len)
{
    uint16_t n;
    if (it->end - it->p < 4) return 0;
    n = nm_get16(it->p + 2);
    if ((size_t)(it->end - it->p - 4) < n) return 0;
    *code = nm_get16(it->p);
    *len = n;
    *data = it->p + 4;
    it->p += 4 + (size_t)n;
    return 1;
}

int nm_ecs_decode(const uint8_t *p, size_t n, nm_ecs *out)
{
    size_t max, bytes;
    if (n < 4) return NM_ERDSHORT;
    out->family = nm_get16(p);
    out->source = p[2];
    out->scope = p[3];
    if (out->family == 1) max = 32;
    else if (out->family == 2) max = 128;
    else return NM_EVALUE;
    if (out->source > max || out->scope > max) return NM_EVALUE;
    bytes = ((size_t)out->source + 7) / 8;
    if (n - 4 != bytes) return NM_EVALUE;
    memset(out->addr, 0, sizeof out->addr);
    memcpy(out->addr, p + 4, bytes);
    return NM_OK;
}

void nm_wr_ecs(nm_writer *w, const nm_ecs *ecs)
{
    size_t bytes = ((size_t)ecs->source + 7) / 8;
    uint8_t addr[16];
    memcpy(addr, ecs->addr, sizeof addr);
    if (bytes > 16) bytes = 16;
    /* Bits past the prefix must be zero (RFC 7871, 6). */
    if (ecs->source % 8 && bytes) addr[bytes - 1] &= (uint8_t)(0xFF << (8 - ecs->source % 8));
    nm_wr_u16(w, NM_OPT_ECS);
    nm_wr_u16(w, (uint16_t)(4 + bytes));
    nm_wr_u16(w, ecs->family);
    nm_wr_u8(w, ecs->source);
    nm_wr_u8(w, ecs->scope);
    nm_wr_bytes(w, addr, bytes);
}

void nm_wr_option(nm_writer *w, uint16_t code, const uint8_t *data, size_t len)
{
    if (len > 0xFFFF) {
        if (!w->err) w->err = NM_EVALUE;
        return;
    }
    nm_wr_u16(w, code);
    nm_wr_u16(w, (uint16_t)len);
    nm_wr_bytes(w, data, len);
}
