/*
 * cql_rocksdb.c — loads librocksdb with dlopen the first time a store is
 * opened (cql_rocksdb.h says why). The file name is the library's SONAME,
 * read from the library CMake found (SPATE_ROCKSDB_SONAME), so the same
 * build loads the same library it was compiled against.
 */
#define CQL_ROCKSDB_NO_DEFINES
#include "cql_rocksdb.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#ifndef SPATE_ROCKSDB_SONAME
#define SPATE_ROCKSDB_SONAME "librocksdb.so"
#endif

cql_rocksdb_api_t cql_rdb;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_err[256]; /* empty: loaded */

static void load(void) {
    void *h = dlopen(SPATE_ROCKSDB_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(load_err, sizeof load_err, "cannot load RocksDB (%s): %s", SPATE_ROCKSDB_SONAME,
                 e ? e : "unknown error");
        return;
    }
    /* dlsym's void * to a function pointer: POSIX guarantees it works. */
#define CQL_ROCKSDB_SYM(f)                                                                         \
    if (!load_err[0] && !(*(void **)&cql_rdb.f = dlsym(h, #f)))                                    \
        snprintf(load_err, sizeof load_err, "RocksDB (%s) has no %s", SPATE_ROCKSDB_SONAME, #f);
    CQL_ROCKSDB_FUNCS(CQL_ROCKSDB_SYM)
#undef CQL_ROCKSDB_SYM
    /* The handle stays open for the life of the process. */
}

spate_status_t cql_rocksdb_load(char *err, size_t errlen) {
    pthread_once(&once, load);
    if (!load_err[0]) return SPATE_OK;
    if (errlen) snprintf(err, errlen, "%s", load_err);
    return SPATE_ERR;
}
