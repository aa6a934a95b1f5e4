/*
 * kafka_topic.c — topics: the registry, their files, and broker metadata.
 *
 * On disk, under the data directory:
 *
 *   meta.properties        cluster.id=<22 chars>, node.id=<n> (made once)
 *   <topic>.topic          partitions=<n>  (the topic's existence), then
 *                          key=value per config override (kafka_config.c)
 *   <topic>-<p>/           one partition's log (kafka_log.c)
 *
 * A topic exists when its .topic file does; its partition directories are
 * created (or recovered) when the broker starts. Creating writes the
 * partition directories first and the .topic file last (then fsyncs the
 * directory), so a crash in between leaves no half topic visible. Adding
 * partitions (CreatePartitions) follows the same order: the new
 * directories, then the .topic file rewritten atomically with the new
 * count; a crash between leaves directories no .topic line counts, which
 * are ignored (and reused if the partitions are added again).
 */
#include "kafka_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

bool kafka_topic_name_valid(const char *name, size_t len) {
    if (len == 0 || len > 249) return false;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

kafka_topic_t *kafka_topic_find(kafka_broker_t *b, const char *name, size_t len) {
    for (kafka_topic_t *t = b->topics; t; t = t->next)
        if (strlen(t->name) == len && memcmp(t->name, name, len) == 0) return t;
    return NULL;
}

static void sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static spate_status_t mkdirs(const char *path) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return SPATE_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return SPATE_EIO;
    return SPATE_OK;
}

/* Writes path atomically (temp file, fsync, rename, fsync dir). */
static spate_status_t write_file(const char *dir, const char *name, const char *text) {
    char path[1400], tmp[1420];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return SPATE_EIO;
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return SPATE_EIO;
    }
    sync_dir(dir);
    return SPATE_OK;
}

spate_status_t kafka_meta_load(kafka_broker_t *b, char *err, size_t errlen) {
    const char *dir = b->conf.data_dir;
    if (mkdirs(dir) != SPATE_OK) {
        snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
        return SPATE_EIO;
    }
    char path[1400];
    snprintf(path, sizeof path, "%s/meta.properties", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (strncmp(line, "cluster.id=", 11) == 0 && !b->conf.cluster_id[0])
                snprintf(b->conf.cluster_id, sizeof b->conf.cluster_id, "%.63s", line + 11);
        }
        fclose(f);
        if (b->conf.cluster_id[0]) return SPATE_OK;
    }
    if (!b->conf.cluster_id[0]) {
        /* 16 random bytes in URL-safe base64 without padding (22 chars),
         * the form Kafka's cluster ids take. */
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        uint8_t r[17] = {0};
        if (getrandom(r, 16, 0) != 16) {
            int64_t t = spate_mono_ns();
            memcpy(r, &t, sizeof t);
        }
        for (int i = 0; i < 22; i++) {
            int bit = i * 6, byte = bit / 8, sh = bit % 8;
            unsigned v = ((unsigned)r[byte] << 8 | r[byte + 1]) >> (10 - sh);
            b->conf.cluster_id[i] = b64[v & 63];
        }
        b->conf.cluster_id[22] = '\0';
    }
    char text[256];
    snprintf(text, sizeof text, "version=1\ncluster.id=%s\nnode.id=%d\n", b->conf.cluster_id,
             b->conf.node_id);
    if (write_file(dir, "meta.properties", text) != SPATE_OK) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return SPATE_EIO;
    }
    return SPATE_OK;
}

/* The settings in force for a topic with overrides tc. */
static void topic_configure(const kafka_broker_t *b, kafka_topic_t *t,
                            const kafka_topic_conf_t *tc) {
    if (tc) t->conf = *tc;
    spate_klog_conf_t *lc = &t->logconf;
    spate_klog_conf_default(lc);
    lc->segment_bytes = kafka_topic_conf_value(b, &t->conf, KTC_SEGMENT_BYTES);
    lc->retention_ms = kafka_topic_conf_value(b, &t->conf, KTC_RETENTION_MS);
    lc->retention_bytes = kafka_topic_conf_value(b, &t->conf, KTC_RETENTION_BYTES);
    t->max_message_bytes = (int32_t)kafka_topic_conf_value(b, &t->conf, KTC_MAX_MESSAGE_BYTES);
    t->flush_messages = kafka_topic_conf_value(b, &t->conf, KTC_FLUSH_MESSAGES);
    t->flush_ms = kafka_topic_conf_value(b, &t->conf, KTC_FLUSH_MS);
    t->cleanup = (int)kafka_topic_conf_value(b, &t->conf, KTC_CLEANUP_POLICY);
    if (!(t->cleanup & KAFKA_CLEANUP_DELETE)) {
        /* compact alone: retention never deletes (Kafka ignores it too) */
        lc->retention_ms = -1;
        lc->retention_bytes = -1;
    }
}

/* Writes <topic>.topic atomically: the partition count and the overrides. */
static spate_status_t topic_write(const kafka_broker_t *b, const char *name, int32_t nparts,
                                  const kafka_topic_conf_t *tc) {
    spate_buf_t text = SPATE_BUF_INIT;
    spate_buf_printf(&text, "partitions=%d\n", nparts);
    kafka_topic_conf_write(tc, &text);
    spate_buf_append(&text, "", 1); /* NUL for write_file */
    char file[300];
    snprintf(file, sizeof file, "%s.topic", name);
    spate_status_t st = write_file(b->conf.data_dir, file, text.data);
    spate_buf_free(&text);
    return st;
}

/* The directory of partition i. */
static void part_dir(const kafka_broker_t *b, const char *name, int32_t i, char *dir, size_t n) {
    snprintf(dir, n, "%s/%s-%d", b->conf.data_dir, name, i);
}

static void topic_free(kafka_topic_t *t) {
    for (int32_t i = 0; i < t->nparts; i++)
        if (t->parts[i].log) spate_klog_close(t->parts[i].log);
    free(t->parts);
    free(t);
}

/* Opens (or creates) the partitions of a topic. */
static spate_status_t topic_open(kafka_broker_t *b, const char *name, int32_t nparts,
                                 const kafka_topic_conf_t *tc, kafka_topic_t **out, char *err,
                                 size_t errlen) {
    kafka_topic_t *t = spate_xcalloc(1, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->nparts = nparts;
    t->parts = spate_xcalloc((size_t)nparts, sizeof *t->parts);
    topic_configure(b, t, tc);
    for (int32_t i = 0; i < nparts; i++) {
        char dir[1400];
        part_dir(b, name, i, dir, sizeof dir);
        if (spate_klog_open(&t->parts[i].log, dir, &t->logconf, err, errlen) != SPATE_OK) {
            topic_free(t);
            return SPATE_EIO;
        }
    }
    *out = t;
    return SPATE_OK;
}

static void topic_link(kafka_broker_t *b, kafka_topic_t *t) {
    t->next = b->topics;
    b->topics = t;
}

spate_status_t kafka_topics_load(kafka_broker_t *b, char *err, size_t errlen) {
    DIR *d = opendir(b->conf.data_dir);
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", b->conf.data_dir, strerror(errno));
        return SPATE_EIO;
    }
    struct dirent *e;
    spate_status_t st = SPATE_OK;
    while ((e = readdir(d)) && st == SPATE_OK) {
        size_t n = strlen(e->d_name);
        if (n <= 6 || strcmp(e->d_name + n - 6, ".topic") != 0) continue;
        char name[256];
        if (n - 6 >= sizeof name) continue;
        memcpy(name, e->d_name, n - 6);
        name[n - 6] = '\0';
        if (!kafka_topic_name_valid(name, n - 6)) continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", b->conf.data_dir, e->d_name);
        FILE *f = fopen(path, "r");
        int64_t nparts = 0;
        kafka_topic_conf_t tc = {0};
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            char *eq = strchr(line, '=');
            if (strncmp(line, "partitions=", 11) == 0) {
                spate_parse_i64(line + 11, 1, 100000, &nparts);
            } else if (eq) {
                char msg[256];
                if (kafka_topic_conf_set(&tc, line, (size_t)(eq - line), eq + 1, strlen(eq + 1),
                                         msg, sizeof msg) != KERR_NONE)
                    spate_log(SPATE_LOG_WARN, "kafka", "%s: line ignored: %s", path, msg);
            }
        }
        if (f) fclose(f);
        if (nparts < 1) {
            spate_log(SPATE_LOG_WARN, "kafka", "%s: no valid partitions=N line; topic skipped",
                      path);
            continue;
        }
        kafka_topic_t *t;
        st = topic_open(b, name, (int32_t)nparts, &tc, &t, err, errlen);
        if (st == SPATE_OK) topic_link(b, t);
    }
    closedir(d);
    int count = 0;
    for (kafka_topic_t *t = b->topics; t; t = t->next) count++;
    if (st == SPATE_OK && count)
        spate_log(SPATE_LOG_INFO, "kafka", "%d topic(s) loaded from %s", count, b->conf.data_dir);
    return st;
}

void kafka_topics_close(kafka_broker_t *b) {
    while (b->topics) {
        kafka_topic_t *t = b->topics;
        b->topics = t->next;
        topic_free(t);
    }
}

int16_t kafka_topic_create(kafka_broker_t *b, const char *name, size_t len, int32_t nparts,
                           const kafka_topic_conf_t *tc, kafka_topic_t **out) {
    if (!kafka_topic_name_valid(name, len)) return KERR_INVALID_TOPIC_EXCEPTION;
    if (kafka_topic_find(b, name, len)) return KERR_TOPIC_ALREADY_EXISTS;
    if (nparts < 1 || nparts > b->conf.max_partitions) return KERR_INVALID_PARTITIONS;
    char n[256];
    memcpy(n, name, len);
    n[len] = '\0';
    char err[512];
    kafka_topic_t *t;
    if (topic_open(b, n, nparts, tc, &t, err, sizeof err) != SPATE_OK) {
        spate_log(SPATE_LOG_ERROR, "kafka", "creating topic %s: %s", n, err);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    if (topic_write(b, n, nparts, &t->conf) != SPATE_OK) {
        spate_log(SPATE_LOG_ERROR, "kafka", "creating topic %s: cannot write %s.topic: %s", n, n,
                  strerror(errno));
        for (int32_t i = 0; i < t->nparts; i++) {
            spate_klog_destroy(t->parts[i].log);
            t->parts[i].log = NULL;
        }
        topic_free(t);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    topic_link(b, t);
    spate_log(SPATE_LOG_INFO, "kafka", "created topic %s with %d partition(s)", n, nparts);
    if (out) *out = t;
    return KERR_NONE;
}

int16_t kafka_topic_add_partitions(kafka_broker_t *b, kafka_topic_t *t, int32_t nparts) {
    if (nparts <= t->nparts) return KERR_INVALID_PARTITIONS;
    kafka_partition_t *parts = spate_xcalloc((size_t)nparts, sizeof *parts);
    memcpy(parts, t->parts, (size_t)t->nparts * sizeof *parts);
    int32_t i = t->nparts;
    char err[512] = "";
    for (; i < nparts; i++) {
        char dir[1400];
        part_dir(b, t->name, i, dir, sizeof dir);
        if (spate_klog_open(&parts[i].log, dir, &t->logconf, err, sizeof err) != SPATE_OK) break;
    }
    if (i == nparts && topic_write(b, t->name, nparts, &t->conf) != SPATE_OK)
        snprintf(err, sizeof err, "cannot write %s.topic: %s", t->name, strerror(errno));
    else if (i == nparts)
        err[0] = '\0';
    if (err[0]) {
        spate_log(SPATE_LOG_ERROR, "kafka", "adding partitions to %s: %s", t->name, err);
        for (int32_t k = t->nparts; k < nparts; k++)
            if (parts[k].log) spate_klog_destroy(parts[k].log);
        free(parts);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    spate_log(SPATE_LOG_INFO, "kafka", "topic %s: %d -> %d partitions", t->name, t->nparts, nparts);
    free(t->parts);
    t->parts = parts;
    t->nparts = nparts;
    return KERR_NONE;
}

int16_t kafka_topic_delete(kafka_broker_t *b, const char *name, size_t len) {
    kafka_topic_t **pp = &b->topics;
    while (*pp && !(strlen((*pp)->name) == len && memcmp((*pp)->name, name, len) == 0))
        pp = &(*pp)->next;
    if (!*pp) return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    kafka_topic_t *t = *pp;
    char file[1400];
    snprintf(file, sizeof file, "%s/%s.topic", b->conf.data_dir, t->name);
    /* The .topic file goes first: a crash after it leaves only orphaned
     * partition directories, which are ignored. */
    if (unlink(file) != 0 && errno != ENOENT) {
        spate_log(SPATE_LOG_ERROR, "kafka", "deleting topic %s: %s", t->name, strerror(errno));
        return KERR_KAFKA_STORAGE_ERROR;
    }
    sync_dir(b->conf.data_dir);
    *pp = t->next;
    for (int32_t i = 0; i < t->nparts; i++) {
        if (spate_klog_destroy(t->parts[i].log) != SPATE_OK)
            spate_log(SPATE_LOG_WARN, "kafka", "deleting %s-%d: some files remain", t->name, i);
        t->parts[i].log = NULL;
    }
    spate_log(SPATE_LOG_INFO, "kafka", "deleted topic %s", t->name);
    topic_free(t);
    return KERR_NONE;
}
