#include "rdata.h"

static const nm_field opaque_field = { NM_FK_OPAQUE, "data" };

void nm_rdata_begin(nm_rdata_iter *it, const uint8_t *wire, size_t rdata, size_t rdlen,
                    const nm_rrtype *type)
{
    nm_reader_init(&it->r, wire, rdata + rdlen);
    it->r.pos = rdata;
    it->type = type;
    it->field = 0;
    it->a6len = 0;
    it->check_only = 0;
}

/* The rest of the rdata, in place. */
static void take_rest(nm_reader *r, nm_value *v)
{
    v->data = r->buf + r->pos;
    v->len = r->len - r->pos;
    r->pos = r->len;
}

static int take_counted(nm_reader *r, nm_value *v, int wide)
{
    int err;
    if (wide) {
        uint16_t n;
        if ((err = nm_rd_u16(r, &n))) return err;
        v->len = n;
    } else {
        uint8_t n;
        if ((err = nm_rd_u8(r, &n))) return err;
        v->len = n;
    }
    return nm_rd_bytes(r, v->len, &v->data);
}

static int check_strings(const nm_value *v)
{
    const uint8_t *p = v->data, *end = v->data + v->len, *s;
    size_t n;
    int more;
    while ((more = nm_strings_next(&p, end, &s, &n)) == 1) {}
    return more == 0 ? NM_OK : NM_ERDSHORT;
}

static int check_bitmap(const nm_value *v)
{
    size_t i = 0;
    int last = -1;
    while (i < v->len) {
        uint8_t window, n;
        if (v->len - i < 2) return NM_ERDSHORT;
        window = v->data[i];
        n = v->data[i + 1];
        if (n == 0 || n > 32 || (int)window <= last) return NM_EVALUE;
        if (v->len - i - 2 < n) return NM_ERDSHORT;
        last = window;
        i += 2 + (size_t)n;
    }
    return NM_OK;
}

static int check_params(const nm_value *v)
{
    size_t i = 0;
    while (i < v->len) {
        uint16_t n;
        if (v->len - i < 4) return NM_ERDSHORT;
        n = nm_get16(v->data + i + 2);
        if (v->len - i - 4 < n) return NM_ERDSHORT;
        i += 4 + (size_t)n;
    }
    return NM_OK;
}

static int read_field(nm_rdata_iter *it, const nm_field *f, nm_value *v)
{
    nm_reader *r = &it->r;
    int err = NM_OK;
    uint8_t u8 = 0;
    uint16_t u16 = 0;
    uint32_t u32 = 0;

    switch ((enum nm_field_kind)f->kind) {
    case NM_FK_U8:
        err = nm_rd_u8(r, &u8);
        v->num = u8;
        break;
    case NM_FK_A6LEN:
        if ((err = nm_rd_u8(r, &u8))) break;
        if (u8 > 128) return NM_EVALUE;
        it->a6len = u8;
        v->num = u8;
        break;
    case NM_FK_U16:
    case NM_FK_TYPE:
    case NM_FK_RCODE:
        err = nm_rd_u16(r, &u16);
        v->num = u16;
        break;
    case NM_FK_U32:
    case NM_FK_TIME:
        err = nm_rd_u32(r, &u32);
        v->num = u32;
        break;
    case NM_FK_U48:
        if ((err = nm_rd_u16(r, &u16))) break;
        if ((err = nm_rd_u32(r, &u32))) break;
        v->num = ((uint64_t)u16 << 32) | u32;
        break;
    case NM_FK_NAME:
    case NM_FK_NAME_NC:
        err = nm_name_read(r, it->check_only ? NULL : v->name, &v->namelen);
        break;
    case NM_FK_A6PREFIX:
        if (it->a6len == 0) {
            v->name[0] = 0;
            v->namelen = 0; /* absent */
            break;
        }
        err = nm_name_read(r, it->check_only ? NULL : v->name, &v->namelen);
        break;
    case NM_FK_IPV4:
        v->len = 4;
        err = nm_rd_bytes(r, 4, &v->data);
        break;
    case NM_FK_IPV6:
        v->len = 16;
        err = nm_rd_bytes(r, 16, &v->data);
        break;
    case NM_FK_A6SUFFIX:
        v->len = 16 - it->a6len / 8;
        err = nm_rd_bytes(r, v->len, &v->data);
        break;
    case NM_FK_STRING:
    case NM_FK_TAG:
    case NM_FK_SALT:
    case NM_FK_HASH:
        err = take_counted(r, v, 0);
        break;
    case NM_FK_B64_16:
    case NM_FK_OTHER16:
        err = take_counted(r, v, 1);
        break;
    case NM_FK_STRINGS:
        take_rest(r, v);
        err = check_strings(v);
        break;
    case NM_FK_BITMAP:
        take_rest(r, v);
        err = check_bitmap(v);
        break;
    case NM_FK_PARAMS:
        take_rest(r, v);
        err = check_params(v);
        break;
    case NM_FK_TEXT:
    case NM_FK_HEX:
    case NM_FK_BASE64:
    case NM_FK_OPAQUE:
    case NM_FK_PORTS:
        take_rest(r, v);
        break;
    }
    return err == NM_ESHORT ? NM_ERDSHORT : err;
}

int nm_rdata_next(nm_rdata_iter *it, const nm_field **f, nm_value *v)
{
    const nm_field *fd;
    int err;

    if (!it->type) {
        if (it->field) return 0;
        fd = &opaque_field;
    } else {
        if (it->field >= it->type->nfields) return 0;
        fd = &it->type->fields[it->field];
    }
    it->field++;
    *f = fd;
    err = read_field(it, fd, v);
    return err ? err : 1;
}

int nm_rdata_check(const uint8_t *wire, size_t rdata, size_t rdlen, const nm_rrtype *type)
{
    nm_rdata_iter it;
    nm_value v;
    int err;

    if (!type) return NM_OK; /* opaque: any bytes will do */
    nm_rdata_begin(&it, wire, rdata, rdlen, type);
    it.check_only = 1;
    for (int i = 0; i < type->nfields; i++)
        if ((err = read_field(&it, &type->fields[i], &v))) return err;
    return it.r.pos == it.r.len ? NM_OK : NM_ERDLONG;
}

int nm_strings_next(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n)
{
    const uint8_t *q = *p;
    if (q >= end) return 0;
    if ((size_t)(end - q) < 1u + *q) return NM_ERDSHORT;
    *n = *q;
    *s = q + 1;
    *p = q + 1 + *q;
    return 1;
}

int nm_bitmap_next(const uint8_t *map, size_t len, size_t *state, uint16_t *type)
{
    /* state: the bit position (window * 256 + bit) of the next type to test,
     * plus the byte offset of its window block in the high bits. */
    size_t block = *state >> 16, bit = *state & 0xFFFF;
    while (block + 2 <= len) {
        uint8_t window = map[block], n = map[block + 1];
        size_t nbits = (size_t)n * 8;
        if (block + 2 + n > len) return 0;
        for (; bit < nbits; bit++) {
            if (map[block + 2 + bit / 8] & (0x80 >> (bit % 8))) {
                *type = (uint16_t)(window * 256 + bit);
                *state = (block << 16) | (bit + 1);
                return 1;
            }
        }
        block += 2 + n;
        bit = 0;
    }
    *state = block << 16;
    return 0;
}

void nm_wr_bitmap(nm_writer *w, const uint16_t *types, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t window = (uint8_t)(types[i] >> 8);
        uint8_t bits[32] = { 0 };
        int top = 0;
        for (; i < n && (types[i] >> 8) == window; i++) {
            int b = types[i] & 0xFF;
            bits[b / 8] |= (uint8_t)(0x80 >> (b % 8));
            if (b / 8 + 1 > top) top = b / 8 + 1;
        }
        nm_wr_u8(w, window);
        nm_wr_u8(w, (uint8_t)top);
        nm_wr_bytes(w, bits, (size_t)top);
    }
}

static int put_counted(nm_writer *w, const nm_value *v, int wide)
{
    if (wide) {
        if (v->len > 65535) return NM_EVALUE;
        nm_wr_u16(w, (uint16_t)v->len);
    } else {
        if (v->len > 255) return NM_EVALUE;
        nm_wr_u8(w, (uint8_t)v->len);
    }
    nm_wr_bytes(w, v->data, v->len);
    return NM_OK;
}

int nm_rdata_put(nm_rdata_out *out, const nm_field *f, const nm_value *v)
{
    nm_writer *w = out->w;

    switch ((enum nm_field_kind)f->kind) {
    case NM_FK_U8:
        if (v->num > 0xFF) return NM_EVALUE;
        nm_wr_u8(w, (uint8_t)v->num);
        break;
    case NM_FK_A6LEN:
        if (v->num > 128) return NM_EVALUE;
        out->a6len = (uint8_t)v->num;
        nm_wr_u8(w, (uint8_t)v->num);
        break;
    case NM_FK_U16:
    case NM_FK_TYPE:
    case NM_FK_RCODE:
        if (v->num > 0xFFFF) return NM_EVALUE;
        nm_wr_u16(w, (uint16_t)v->num);
        break;
    case NM_FK_U32:
    case NM_FK_TIME:
        if (v->num > 0xFFFFFFFFu) return NM_EVALUE;
        nm_wr_u32(w, (uint32_t)v->num);
        break;
    case NM_FK_U48:
        if (v->num > 0xFFFFFFFFFFFFull) return NM_EVALUE;
        nm_wr_u16(w, (uint16_t)(v->num >> 32));
        nm_wr_u32(w, (uint32_t)v->num);
        break;
    case NM_FK_NAME:
        nm_wr_name(w, v->name, 1);
        break;
    case NM_FK_NAME_NC:
        nm_wr_name(w, v->name, 0);
        break;
    case NM_FK_A6PREFIX:
        if (out->a6len) nm_wr_name(w, v->name, 0);
        break;
    case NM_FK_IPV4:
        if (v->len != 4) return NM_EVALUE;
        nm_wr_bytes(w, v->data, 4);
        break;
    case NM_FK_IPV6:
        if (v->len != 16) return NM_EVALUE;
        nm_wr_bytes(w, v->data, 16);
        break;
    case NM_FK_A6SUFFIX: {
        /* A whole address (from text) or the suffix bytes alone (as
         * nm_rdata_next reads them), so that decode -> put round-trips. */
        size_t n = 16 - (size_t)out->a6len / 8;
        if (v->len == 16) nm_wr_bytes(w, v->data + 16 - n, n);
        else if (v->len == n) nm_wr_bytes(w, v->data, n);
        else return NM_EVALUE;
        break;
    }
    case NM_FK_STRING:
    case NM_FK_TAG:
    case NM_FK_SALT:
    case NM_FK_HASH:
        return put_counted(w, v, 0);
    case NM_FK_B64_16:
    case NM_FK_OTHER16:
        return put_counted(w, v, 1);
    case NM_FK_STRINGS:
    case NM_FK_BITMAP:
    case NM_FK_PARAMS:
    case NM_FK_TEXT:
    case NM_FK_HEX:
    case NM_FK_BASE64:
    case NM_FK_OPAQUE:
    case NM_FK_PORTS:
        nm_wr_bytes(w, v->data, v->len);
        break;
    }
    return NM_OK;
}
