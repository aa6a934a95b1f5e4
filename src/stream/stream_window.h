/*
 * stream_window.h — private interface of the window engine
 * (stream_window.c): event-time tumbling and hopping windows counting
 * records per group, with a watermark, allowed lateness and a checkpoint
 * that makes the counts survive restarts exactly.
 *
 * The engine (swin_*) is pure: no I/O, no clocks, no Kafka. The runtime
 * half of stream_window.c wraps it as a sink of the job loop (returned by
 * srun_window_sink_for, stream_run_int.h) that writes closed windows and
 * the checkpoint to CQL. See stream_window.c for the design.
 */
#ifndef SPATE_STREAM_WINDOW_H
#define SPATE_STREAM_WINDOW_H

#include "stream.h"

/* Event times and durations are kept within these bounds so that
 * start + size + lateness never overflows (years 0000..9999 and 100
 * years). */
#define SWIN_TIME_MIN (-62167219200000LL)
#define SWIN_TIME_MAX (253402300799999LL)
#define SWIN_DURATION_MAX (3155760000000LL)
/* Bytes of a group key (the group-by values, encoded), at most: a
 * clustering column of the partials table (CQL keys hold 65535). */
#define SWIN_KEY_MAX 65535

typedef struct {
    int64_t size_ms;     /* > 0 */
    int64_t hop_ms;      /* 0 < hop <= size, size % hop == 0 (== size: tumbling) */
    int64_t delay_ms;    /* watermark delay, >= 0 */
    int64_t lateness_ms; /* allowed lateness, >= 0 */
    uint32_t ngroup;     /* group-by fields per key */
} swin_conf_t;

typedef struct swin swin_t;

/* A closed window's result. key is owned by the row (freed by
 * swin_rows_free). */
typedef struct {
    int64_t start, end, count;
    char *key;
    size_t klen;
} swin_row_t;

typedef enum {
    SWIN_COUNTED = 0, /* counted in at least one open window */
    SWIN_LATE = 1,    /* every window it falls in is already closed */
} swin_verdict_t;

/* A new, empty engine. SPATE_EINVAL (and *out NULL) when c breaks the
 * rules above. Free with swin_free. */
spate_status_t swin_new(const swin_conf_t *c, swin_t **out);
void swin_free(swin_t *w); /* NULL-safe */

/* Group keys: ngroup texts, each as u32 length + bytes, appended to k in
 * group-by order. swin_key_get finds text i of key (borrowed);
 * SPATE_EINVAL for a malformed key or i out of range. */
void swin_key_put(spate_buf_t *k, const char *s, size_t n);
spate_status_t swin_key_get(const char *key, size_t klen, uint32_t i, const char **s, size_t *n);

/* Counts a record with event time t and group key (copied) in every open
 * window it falls in (size / hop windows), then moves the watermark.
 * SPATE_EINVAL for t outside SWIN_TIME_MIN..MAX or a malformed key;
 * else SPATE_OK with *verdict. */
spate_status_t swin_add(swin_t *w, int64_t t, const char *key, size_t klen,
                        swin_verdict_t *verdict);
/* max event time seen - delay; INT64_MIN before the first record. */
int64_t swin_watermark(const swin_t *w);
/* Whether the window starting at start is closed: watermark >= start +
 * size + lateness. */
bool swin_is_closed(const swin_t *w, int64_t start);
/* Removes every closed window's cells and returns them in *rows (owned by
 * the caller: swin_rows_free), ordered by (start, key). Returns how many. */
size_t swin_close(swin_t *w, swin_row_t **rows);
void swin_rows_free(swin_row_t *rows, size_t n);
/* Open (window, group) cells. */
size_t swin_cells(const swin_t *w);
/* The count of one open cell (0 when absent). */
int64_t swin_count(const swin_t *w, int64_t start, const char *key, size_t klen);

/* Source positions: for each (topic, partition), the next offset not yet
 * reflected in the state (every record below it was counted, found late
 * or failed). set keeps the larger of the old and the new; get gives -1
 * for an unknown partition. */
void swin_offset_set(swin_t *w, const char *topic, int32_t partition, int64_t next);
int64_t swin_offset_get(const swin_t *w, const char *topic, int32_t partition);

/* The whole state (settings fingerprint, watermark, source positions,
 * open cells) in the checkpoint layout (stream_window.c), appended to
 * out. Deterministic: the same state gives the same bytes. */
void swin_save(const swin_t *w, spate_buf_t *out);
/* Loads a checkpoint into w, which must be new (empty). Pure and
 * bounds-checked. SPATE_EINVAL with a reason in err for a malformed
 * checkpoint or one taken with other window settings; w is then left
 * empty again (a w that was not empty is refused and left unchanged). */
spate_status_t swin_load(swin_t *w, const void *p, size_t n, char *err, size_t errlen);

/* An event time from a JSON value: integer epoch ms, a real (floored) or
 * RFC 3339 text. SPATE_EINVAL otherwise or outside SWIN_TIME_MIN..MAX. */
spate_status_t swin_event_time(const json_t *v, int64_t *ms);
/* A group-by value as text, appended to out: strings as they are, other
 * values as compact JSON, missing (NULL) and null as "". */
void swin_value_text(const json_t *v, spate_buf_t *out);
/* The output column of group-by path text ("location.country" →
 * "location_country", "$.nat" → "nat"), into out (NUL-terminated).
 * SPATE_EINVAL when the result is not an identifier of at most 48 bytes
 * or is one of window_start, window_end, count. */
spate_status_t swin_column_name(const char *path, char *out, size_t outlen);

#endif /* SPATE_STREAM_WINDOW_H */
