/*
 * source_randomuser_gen.c — generates randomuser.me 1.4 users.
 *
 * Each user is drawn from one MT19937 stream in a fixed order (nat,
 * gender, name, location, login, dates, phones, id, picture), so a seed
 * reproduces the same users whatever inc/exc or format asks for. Texts
 * come from the static word lists (source_randomuser_data.c) or are made
 * into the user's scratch buffer; nothing is allocated per user, which is
 * what lets one core produce about a million users a second.
 *
 * Fields follow the real API (shared/reference/seed-reference.md §6):
 * postcode an integer except GB/CA/NO, coordinates strings with 4
 * decimals, login hashes the real md5/sha1/sha256 of password+salt, ages
 * computed against the current date.
 */
#include "source_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Date ranges of the real generator, in ms since the epoch. */
#define DOB_MIN (-800000000000LL)
#define DATA_EPOCH 1653344189000LL /* the generator's "now": 2022-05-23 */
#define DOB_MAX (DATA_EPOCH - 21LL * 365 * 86400000)
#define REG_MIN 1016688461000LL

/* ---- small helpers over the scratch buffer ---- */

/* The longest texts a user can need (patterns and lists are ours, e-mail
 * parts are capped at 100 bytes) come to well under half of u->buf; an
 * overflow would be a bug in the word lists, caught here. */
static char *scratch(ru_user_t *u, size_t n) {
    if (u->used + n + 256 > sizeof u->buf) {
        fprintf(stderr, "spate: randomuser scratch space exceeded (word list too long?)\n");
        abort();
    }
    char *p = u->buf + u->used;
    u->used += n;
    return p;
}

static ru_str_t cstr(const char *s) { return (ru_str_t){s, (uint32_t)strlen(s)}; }

/* A list entry "display|ascii": the display part. */
static ru_str_t display_part(const char *e) {
    const char *bar = strchr(e, '|');
    return (ru_str_t){e, (uint32_t)(bar ? (size_t)(bar - e) : strlen(e))};
}

/* ---- ASCII folding for e-mail addresses ---- */

/* Latin-1 Supplement (U+00C0..U+00FF) and Latin Extended-A
 * (U+0100..U+017F) to lower-case ASCII, space separated; "-" is a
 * character that folds to nothing (×, ÷). */
static const char fold_src[] =
    "a a a a a a ae c e e e e i i i i d n o o o o o - o u u u u y th ss "
    "a a a a a a ae c e e e e i i i i d n o o o o o - o u u u u y th y "
    "a a a a a a c c c c c c c c d d d d e e e e e e e e e e g g g g g g g g h h h h "
    "i i i i i i i i i i ij ij j j k k k l l l l l l l l l l n n n n n n n n n "
    "o o o o o o oe oe r r r r r r s s s s s s s s t t t t t t u u u u u u u u u u u u "
    "w w y y y z z z z z z s";
static char fold_tab[192][3];
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static void fold_init(void) {
    const char *s = fold_src;
    for (int i = 0; i < 192 && *s; i++) {
        int k = 0;
        while (*s && *s != ' ') {
            if (*s != '-' && k < 2) fold_tab[i][k++] = *s;
            s++;
        }
        fold_tab[i][k] = '\0';
        while (*s == ' ') s++;
    }
}

/* Appends the lower-case ASCII form of a name to out (letters, digits and
 * '-' only; spaces and apostrophes dropped, as e-mail local parts). */
static size_t fold_name(const char *e, char *out, size_t cap) {
    const char *bar = strchr(e, '|');
    const unsigned char *s = (const unsigned char *)(bar ? bar + 1 : e);
    size_t n = 0;
    pthread_once(&fold_once, fold_init);
    while (*s && *s != '|' && n + 3 < cap) {
        unsigned c = *s;
        if (c < 0x80) {
            s++;
            if (c >= 'A' && c <= 'Z') c += 32;
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') out[n++] = (char)c;
            continue;
        }
        /* Decode one UTF-8 sequence (lists are valid UTF-8; stay safe anyway). */
        unsigned cp = 0, len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        cp = len == 1 ? 0 : c & (0x3f >> (len - 1));
        size_t i = 1;
        for (; i < len && (s[i] & 0xc0) == 0x80; i++) cp = cp << 6 | (s[i] & 0x3f);
        s += i;
        const char *f = NULL;
        if (cp >= 0xc0 && cp < 0x180)
            f = fold_tab[cp - 0xc0];
        else if (cp == 0x219)
            f = "s"; /* ș */
        else if (cp == 0x21b)
            f = "t"; /* ț */
        for (; f && *f; f++) out[n++] = *f;
    }
    return n;
}

/* ---- the word lists, measured once ----
 *
 * Every user picks a dozen list entries; their lengths, the display part
 * of "display|ascii" names and the ASCII e-mail form of each name are
 * worked out once per process instead of once per pick. */

typedef struct {
    ru_str_t disp;  /* shown: the part before '|' */
    ru_str_t email; /* e-mail form: folded, lower-case ASCII */
} ru_name_t;

typedef struct {
    ru_name_t *first[2], *last; /* first[0] male, first[1] female */
    ru_str_t *streets, *cities, *states, *titles[2];
} ru_nat_cache_t;

static ru_nat_cache_t nat_cache[SPATE_RU_NNATS];
static ru_str_t *adj_cache, *animal_cache, *pw_cache, *ftitle_cache, *tz_off_cache, *tz_desc_cache;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static ru_str_t *measure(const spate_ru_list_t *l) {
    ru_str_t *c = spate_xcalloc(l->n ? l->n : 1, sizeof *c);
    for (size_t i = 0; i < l->n; i++) c[i] = cstr(l->v[i]);
    return c;
}

static ru_name_t *measure_names(const spate_ru_list_t *l) {
    ru_name_t *c = spate_xcalloc(l->n ? l->n : 1, sizeof *c);
    for (size_t i = 0; i < l->n; i++) {
        char tmp[128];
        size_t n = fold_name(l->v[i], tmp, sizeof tmp);
        c[i].disp = display_part(l->v[i]);
        char *e = spate_xmalloc(n + 1);
        memcpy(e, tmp, n);
        e[n] = '\0';
        c[i].email = (ru_str_t){e, (uint32_t)n};
    }
    return c;
}

/* The caches live as long as the process (still-reachable, never freed). */
static void cache_init(void) {
    for (int i = 0; i < SPATE_RU_NNATS; i++) {
        const spate_ru_nat_t *n = &spate_ru_nats[i];
        ru_nat_cache_t *c = &nat_cache[i];
        c->first[0] = measure_names(&n->male_first);
        c->first[1] = measure_names(&n->female_first);
        c->last = measure_names(&n->last);
        c->streets = measure(&n->streets);
        c->cities = measure(&n->cities);
        c->states = measure(&n->states);
        c->titles[0] = measure(&n->male_titles);
        c->titles[1] = measure(&n->female_titles);
    }
    adj_cache = measure(&spate_ru_username_adjectives);
    animal_cache = measure(&spate_ru_username_animals);
    pw_cache = measure(&spate_ru_passwords);
    ftitle_cache = measure(&spate_ru_female_titles);
    tz_off_cache = spate_xcalloc(spate_ru_ntimezones, sizeof *tz_off_cache);
    tz_desc_cache = spate_xcalloc(spate_ru_ntimezones, sizeof *tz_desc_cache);
    for (size_t i = 0; i < spate_ru_ntimezones; i++) {
        tz_off_cache[i] = cstr(spate_ru_timezones[i].offset);
        tz_desc_cache[i] = cstr(spate_ru_timezones[i].description);
    }
}

/* An index into a list of n entries. */
static inline uint32_t pick_i(spate_mt_t *m, size_t n) { return spate_mt_below(m, (uint32_t)n); }

/* ---- patterns: # digit, @ non-zero digit, ^ letter, {DD} {MM} {YY}
 * {YYYY} from the date of birth, {G} gender digit ---- */

/* Decimal digits drawn nine at a time: one 32-bit draw below 10^9 gives
 * nine uniform digits, so a phone number costs two draws, not ten. */
typedef struct {
    uint32_t v;
    int left;
} digit_pool_t;

static int pool_digit(digit_pool_t *d, spate_mt_t *m) {
    if (!d->left) {
        d->v = spate_mt_below(m, 1000000000u);
        d->left = 9;
    }
    int r = (int)(d->v % 10);
    d->v /= 10;
    d->left--;
    return r;
}

static ru_str_t expand(ru_user_t *u, spate_mt_t *m, const char *pat, const char *dob_iso) {
    char *o = scratch(u, 0);
    size_t n = 0, cap = sizeof u->buf - u->used - 1;
    digit_pool_t d = {0, 0};
    for (const char *p = pat; *p && n + 4 < cap; p++) {
        switch (*p) {
        case '#': o[n++] = (char)('0' + pool_digit(&d, m)); break;
        case '@': o[n++] = (char)('1' + spate_mt_below(m, 9)); break;
        case '^': o[n++] = (char)('A' + spate_mt_below(m, 26)); break;
        case '{': {
            const char *end = strchr(p, '}');
            size_t k = end ? (size_t)(end - p - 1) : 0;
            if (k == 2 && strncmp(p + 1, "DD", 2) == 0)
                memcpy(o + n, dob_iso + 8, 2), n += 2;
            else if (k == 2 && strncmp(p + 1, "MM", 2) == 0)
                memcpy(o + n, dob_iso + 5, 2), n += 2;
            else if (k == 2 && strncmp(p + 1, "YY", 2) == 0)
                memcpy(o + n, dob_iso + 2, 2), n += 2;
            else if (k == 4 && strncmp(p + 1, "YYYY", 4) == 0)
                memcpy(o + n, dob_iso, 4), n += 4;
            else if (k == 1 && p[1] == 'G')
                o[n++] = u->female ? '2' : '1';
            else
                o[n++] = '{';
            if (end && k <= 4) p = end;
            break;
        }
        default: o[n++] = *p;
        }
    }
    u->used += n;
    return (ru_str_t){o, (uint32_t)n};
}

static ru_str_t put_text(ru_user_t *u, const char *s, size_t n) {
    char *o = scratch(u, n);
    ru_copy(o, s, n);
    return (ru_str_t){o, (uint32_t)n};
}

/* Appends the decimal digits of v (>= 0) to o; returns their count. */
static size_t put_uint(char *o, uint64_t v) {
    char rev[24];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) o[i] = rev[n - 1 - i];
    return n;
}

/* "-69.8246": a fixed-point value in units of 1e-4, as text. */
static ru_str_t put_coord(ru_user_t *u, int64_t v) {
    char *o = scratch(u, 0);
    size_t n = 0;
    if (v < 0) o[n++] = '-', v = -v;
    n += put_uint(o + n, (uint64_t)(v / 10000));
    o[n++] = '.';
    int frac = (int)(v % 10000);
    for (int d = 1000; d; d /= 10) o[n++] = (char)('0' + frac / d % 10);
    u->used += n;
    return (ru_str_t){o, (uint32_t)n};
}

static const char pw_special[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
static const char pw_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char pw_lower[] = "abcdefghijklmnopqrstuvwxyz";
static const char pw_number[] = "0123456789";
static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static ru_str_t make_password(ru_user_t *u, spate_mt_t *m, const spate_ru_params_t *p) {
    if (!p->pw_charsets) return pw_cache[pick_i(m, spate_ru_passwords.n)];
    char set[128];
    size_t sn = 0;
    const char *sets[4] = {pw_special, pw_upper, pw_lower, pw_number};
    for (int i = 0; i < 4; i++) {
        if (!(p->pw_charsets & (1u << i))) continue;
        size_t k = strlen(sets[i]);
        memcpy(set + sn, sets[i], k);
        sn += k;
    }
    int len = (int)spate_mt_range(m, p->pw_min, p->pw_max);
    char *o = scratch(u, (size_t)len);
    for (int i = 0; i < len; i++) o[i] = set[spate_mt_below(m, (uint32_t)sn)];
    return (ru_str_t){o, (uint32_t)len};
}

static ru_str_t make_uuid4(ru_user_t *u, spate_mt_t *m) {
    uint8_t b[16];
    for (int i = 0; i < 16; i += 4) {
        uint32_t r = spate_mt_u32(m);
        memcpy(b + i, &r, 4);
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char *o = scratch(u, 37);
    spate_uuid_format(b, o);
    u->used--; /* the NUL is not part of the text */
    return (ru_str_t){o, 36};
}

static ru_str_t put_hash(ru_user_t *u, spate_hash_alg_t alg, const char *in, size_t n) {
    char *o = scratch(u, 65);
    size_t k = spate_hash_hex(alg, in, n, o);
    u->used -= 65 - k;
    return (ru_str_t){o, (uint32_t)k};
}

static int pick_nat(spate_mt_t *m, uint32_t mask) {
    if (!mask) return (int)spate_mt_below(m, SPATE_RU_NNATS);
    int idx[SPATE_RU_NNATS], n = 0;
    for (int i = 0; i < SPATE_RU_NNATS; i++)
        if (mask & (1u << i)) idx[n++] = i;
    return idx[spate_mt_below(m, (uint32_t)n)];
}

void spate_ru_user_make(ru_user_t *u, spate_mt_t *m, const spate_ru_params_t *p, int64_t now_ms) {
    pthread_once(&cache_once, cache_init);
    u->used = 0;
    u->nat = pick_nat(m, p->nat_mask);
    const spate_ru_nat_t *nat = &spate_ru_nats[u->nat];
    u->female = p->gender ? p->gender == 2 : (int)spate_mt_below(m, 2);

    /* name */
    const ru_nat_cache_t *nc = &nat_cache[u->nat];
    const spate_ru_list_t *titles = u->female ? &nat->female_titles : &nat->male_titles;
    if (titles->n)
        u->title = nc->titles[u->female][pick_i(m, titles->n)];
    else
        u->title = u->female ? ftitle_cache[pick_i(m, spate_ru_female_titles.n)] : cstr("Mr");
    const spate_ru_list_t *firsts = u->female ? &nat->female_first : &nat->male_first;
    const ru_name_t *first = &nc->first[u->female][pick_i(m, firsts->n)];
    const ru_name_t *last = &nc->last[pick_i(m, nat->last.n)];
    u->first = first->disp;
    u->last = last->disp;

    /* location */
    u->street_number = (int)spate_mt_range(m, 1, 9999);
    u->street = nc->streets[pick_i(m, nat->streets.n)];
    u->city = nc->cities[pick_i(m, nat->cities.n)];
    u->state = nc->states[pick_i(m, nat->states.n)];
    u->country = (ru_str_t){nat->country, (uint32_t)strlen(nat->country)};
    u->postcode_is_str = nat->postcode_pattern != NULL;
    if (u->postcode_is_str)
        u->postcode = expand(u, m, nat->postcode_pattern, "1970-01-01");
    else
        u->postcode_int = (int)spate_mt_range(m, nat->postcode_min, nat->postcode_max);
    u->lat = put_coord(u, (int64_t)spate_mt_below(m, 1800000) - 900000);
    u->lon = put_coord(u, (int64_t)spate_mt_below(m, 3600000) - 1800000);
    uint32_t tz = pick_i(m, spate_ru_ntimezones);
    u->tz_offset = tz_off_cache[tz];
    u->tz_desc = tz_desc_cache[tz];

    /* email: first.last@example.com in ASCII */
    {
        char *o = scratch(u, first->email.n + last->email.n + 13);
        size_t n = first->email.n;
        ru_copy(o, first->email.p, n);
        o[n++] = '.';
        ru_copy(o + n, last->email.p, last->email.n);
        n += last->email.n;
        memcpy(o + n, "@example.com", 12);
        u->email = (ru_str_t){o, (uint32_t)(n + 12)};
    }

    /* login */
    u->uuid = make_uuid4(u, m);
    {
        /* adjective + animal + 100..999, e.g. "angrybear411" */
        ru_str_t adj = adj_cache[pick_i(m, spate_ru_username_adjectives.n)];
        ru_str_t animal = animal_cache[pick_i(m, spate_ru_username_animals.n)];
        size_t a = adj.n, b = animal.n;
        char *o = scratch(u, a + b + 3);
        ru_copy(o, adj.p, a);
        ru_copy(o + a, animal.p, b);
        put_uint(o + a + b, (uint64_t)spate_mt_range(m, 100, 999));
        u->username = (ru_str_t){o, (uint32_t)(a + b + 3)};
    }
    u->password = make_password(u, m, p);
    {
        /* 8 characters of [A-Za-z0-9], four per draw (62^4 < 2^32) */
        char *o = scratch(u, 8);
        for (int i = 0; i < 8; i += 4) {
            uint32_t r = spate_mt_below(m, 62u * 62 * 62 * 62);
            for (int k = 0; k < 4; k++, r /= 62) o[i + k] = alnum[r % 62];
        }
        u->salt = (ru_str_t){o, 8};
    }
    {
        char ps[128];
        size_t n = 0;
        memcpy(ps, u->password.p, u->password.n);
        n = u->password.n;
        memcpy(ps + n, u->salt.p, 8);
        n += 8;
        u->md5 = put_hash(u, SPATE_HASH_MD5, ps, n);
        u->sha1 = put_hash(u, SPATE_HASH_SHA1, ps, n);
        u->sha256 = put_hash(u, SPATE_HASH_SHA256, ps, n);
    }

    /* dates */
    int64_t dob = spate_mt_range(m, DOB_MIN, DOB_MAX);
    int64_t reg = spate_mt_range(m, REG_MIN, DATA_EPOCH);
    /* The clock's calendar date is computed once per thread and value. */
    static __thread int64_t now_cached = INT64_MIN;
    static __thread spate_civil_t now_civil;
    if (now_ms != now_cached) {
        spate_time_civil(now_ms, &now_civil);
        now_cached = now_ms;
    }
    spate_civil_t c;
    char iso[25];
    spate_time_civil(dob, &c);
    spate_time_civil_iso8601(&c, iso);
    u->dob = put_text(u, iso, 24);
    u->dob_age = spate_time_civil_years(&c, &now_civil);
    spate_time_civil(reg, &c);
    spate_time_civil_iso8601(&c, iso);
    u->registered = put_text(u, iso, 24);
    u->registered_age = spate_time_civil_years(&c, &now_civil);

    /* phones and national id */
    u->phone = expand(u, m, nat->phone_pattern, u->dob.p);
    u->cell = expand(u, m, nat->cell_pattern, u->dob.p);
    u->id_name = cstr(nat->id_name);
    u->id_null = nat->id_pattern == NULL;
    if (!u->id_null) u->id_value = expand(u, m, nat->id_pattern, u->dob.p);

    u->picture = (int)spate_mt_range(m, 0, u->female ? 96 : 99);
    u->nat_code = (ru_str_t){nat->code, 2};
}

/* ---- whole responses ---- */

/* A random seed like the real API's: 16 characters of [a-f1-90]. */
static void random_seed(char out[17]) {
    static __thread uint64_t state;
    if (!state) {
        if (getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state)
            state = (uint64_t)spate_mono_ns() ^ (uint64_t)(uintptr_t)&state;
        state |= 1;
    }
    static const char alphabet[] = "abcdef1234567890";
    for (int i = 0; i < 16; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out[i] = alphabet[state % 16];
    }
    out[16] = '\0';
}

void spate_ru_pick_seed(const spate_ru_params_t *p, char out[64]) {
    if (p->seed[0])
        snprintf(out, 64, "%s", p->seed);
    else
        random_seed(out);
}

spate_status_t spate_ru_generate(const spate_ru_params_t *p, int64_t now_ms, bool empty,
                                 spate_buf_t *out, char *seed_out) {
    char seed[64];
    spate_ru_pick_seed(p, seed);
    if (seed_out) snprintf(seed_out, 17, "%.16s", seed);
    spate_ru_stream_t *st = spate_xmalloc(sizeof *st);
    spate_ru_stream_init(st, p, seed, now_ms, empty);
    /* About 1.1 KB per user in compact JSON: reserve once. */
    spate_status_t rc = spate_buf_reserve(out, (size_t)st->n * 1200 + 256);
    bool done = false;
    if (rc == SPATE_OK) rc = spate_ru_stream_fill(st, out, SIZE_MAX, &done);
    free(st);
    return rc;
}
