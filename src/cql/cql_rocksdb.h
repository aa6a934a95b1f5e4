/*
 * cql_rocksdb.h — RocksDB's C API, loaded at run time (cql_rocksdb.c).
 *
 * Why: spate is one binary, and `spate up` runs six copies of it. Linked
 * normally, librocksdb (and the libstdc++ it needs) is loaded and its
 * static constructors run in every one of them — ~7.7 MiB of resident
 * pages in each process that never opens a store (measured on `spate
 * randomuser`: 6.3 MiB librocksdb, 1.5 MiB libstdc++). So the store
 * dlopens the library the first time one is opened, and only `spate cql`
 * (and the tests and tools of the store) ever load it.
 *
 * How: include this after <rocksdb/c.h> in the one file that calls RocksDB
 * (cql_store.c). Every function that file uses is listed once in
 * CQL_ROCKSDB_FUNCS and #defined to a call through cql_rdb, a table
 * filled by cql_rocksdb_load(); the code reads as if linked directly. A
 * function used without being listed fails at link time (the library is
 * not linked), so the list cannot silently fall behind.
 */
#ifndef SPATE_CQL_ROCKSDB_H
#define SPATE_CQL_ROCKSDB_H

#include "base.h"

#include <rocksdb/c.h>

/* clang-format off */
#define CQL_ROCKSDB_FUNCS(X) \
    X(rocksdb_block_based_options_create) \
    X(rocksdb_block_based_options_destroy) \
    X(rocksdb_block_based_options_set_block_cache) \
    X(rocksdb_block_based_options_set_cache_index_and_filter_blocks) \
    X(rocksdb_block_based_options_set_filter_policy) \
    X(rocksdb_block_based_options_set_whole_key_filtering) \
    X(rocksdb_cache_create_lru) \
    X(rocksdb_cache_destroy) \
    X(rocksdb_close) \
    X(rocksdb_column_family_handle_destroy) \
    X(rocksdb_compact_range_cf) \
    X(rocksdb_create_iterator_cf) \
    X(rocksdb_create_snapshot) \
    X(rocksdb_delete_cf) \
    X(rocksdb_filterpolicy_create_bloom_full) \
    X(rocksdb_flush_cf) \
    X(rocksdb_flush_wal) \
    X(rocksdb_flushoptions_create) \
    X(rocksdb_flushoptions_destroy) \
    X(rocksdb_flushoptions_set_wait) \
    X(rocksdb_free) \
    X(rocksdb_get_cf) \
    X(rocksdb_options_set_bytes_per_sync) \
    X(rocksdb_options_set_level0_file_num_compaction_trigger) \
    X(rocksdb_iter_destroy) \
    X(rocksdb_iter_get_error) \
    X(rocksdb_iter_key) \
    X(rocksdb_iter_next) \
    X(rocksdb_iter_prev) \
    X(rocksdb_iter_seek) \
    X(rocksdb_iter_seek_for_prev) \
    X(rocksdb_iter_seek_to_last) \
    X(rocksdb_iter_valid) \
    X(rocksdb_iter_value) \
    X(rocksdb_mergeoperator_create) \
    X(rocksdb_open_column_families) \
    X(rocksdb_options_create) \
    X(rocksdb_options_destroy) \
    X(rocksdb_options_set_block_based_table_factory) \
    X(rocksdb_options_set_compression) \
    X(rocksdb_options_set_compression_per_level) \
    X(rocksdb_options_set_create_if_missing) \
    X(rocksdb_options_set_create_missing_column_families) \
    X(rocksdb_options_set_db_write_buffer_size) \
    X(rocksdb_options_set_info_log_level) \
    X(rocksdb_options_set_keep_log_file_num) \
    X(rocksdb_options_set_level_compaction_dynamic_level_bytes) \
    X(rocksdb_options_set_manual_wal_flush) \
    X(rocksdb_options_set_max_background_jobs) \
    X(rocksdb_options_set_max_log_file_size) \
    X(rocksdb_options_set_max_open_files) \
    X(rocksdb_options_set_max_total_wal_size) \
    X(rocksdb_options_set_max_write_buffer_number) \
    X(rocksdb_options_set_memtable_prefix_bloom_size_ratio) \
    X(rocksdb_options_set_memtable_whole_key_filtering) \
    X(rocksdb_options_set_merge_operator) \
    X(rocksdb_options_set_prefix_extractor) \
    X(rocksdb_options_set_write_buffer_size) \
    X(rocksdb_put_cf) \
    X(rocksdb_readoptions_create) \
    X(rocksdb_readoptions_destroy) \
    X(rocksdb_readoptions_set_iterate_lower_bound) \
    X(rocksdb_readoptions_set_iterate_upper_bound) \
    X(rocksdb_readoptions_set_prefix_same_as_start) \
    X(rocksdb_readoptions_set_snapshot) \
    X(rocksdb_readoptions_set_total_order_seek) \
    X(rocksdb_release_snapshot) \
    X(rocksdb_set_perf_level) \
    X(rocksdb_slicetransform_create_fixed_prefix) \
    X(rocksdb_suggest_compact_range_cf) \
    X(rocksdb_write) \
    X(rocksdb_writebatch_clear) \
    X(rocksdb_writebatch_count) \
    X(rocksdb_writebatch_create) \
    X(rocksdb_writebatch_create_from) \
    X(rocksdb_writebatch_data) \
    X(rocksdb_writebatch_delete_range_cf) \
    X(rocksdb_writebatch_destroy) \
    X(rocksdb_writebatch_merge_cf) \
    X(rocksdb_writeoptions_create) \
    X(rocksdb_writeoptions_destroy) \
    X(rocksdb_writeoptions_set_sync)
/* clang-format on */

typedef struct {
#define CQL_ROCKSDB_PTR(f) __typeof__(f) *f;
    CQL_ROCKSDB_FUNCS(CQL_ROCKSDB_PTR)
#undef CQL_ROCKSDB_PTR
} cql_rocksdb_api_t;

extern cql_rocksdb_api_t cql_rdb;

/* Loads the library and every function once (thread-safe); later calls
 * return the first result. SPATE_ERR with the reason in err when the
 * library or a function is missing. */
spate_status_t cql_rocksdb_load(char *err, size_t errlen);

#ifndef CQL_ROCKSDB_NO_DEFINES
/* clang-format off */
#define rocksdb_block_based_options_create (*cql_rdb.rocksdb_block_based_options_create)
#define rocksdb_block_based_options_destroy (*cql_rdb.rocksdb_block_based_options_destroy)
#define rocksdb_block_based_options_set_block_cache (*cql_rdb.rocksdb_block_based_options_set_block_cache)
#define rocksdb_block_based_options_set_cache_index_and_filter_blocks (*cql_rdb.rocksdb_block_based_options_set_cache_index_and_filter_blocks)
#define rocksdb_block_based_options_set_filter_policy (*cql_rdb.rocksdb_block_based_options_set_filter_policy)
#define rocksdb_block_based_options_set_whole_key_filtering (*cql_rdb.rocksdb_block_based_options_set_whole_key_filtering)
#define rocksdb_cache_create_lru (*cql_rdb.rocksdb_cache_create_lru)
#define rocksdb_cache_destroy (*cql_rdb.rocksdb_cache_destroy)
#define rocksdb_close (*cql_rdb.rocksdb_close)
#define rocksdb_column_family_handle_destroy (*cql_rdb.rocksdb_column_family_handle_destroy)
#define rocksdb_compact_range_cf (*cql_rdb.rocksdb_compact_range_cf)
#define rocksdb_create_iterator_cf (*cql_rdb.rocksdb_create_iterator_cf)
#define rocksdb_create_snapshot (*cql_rdb.rocksdb_create_snapshot)
#define rocksdb_delete_cf (*cql_rdb.rocksdb_delete_cf)
#define rocksdb_filterpolicy_create_bloom_full (*cql_rdb.rocksdb_filterpolicy_create_bloom_full)
#define rocksdb_flush_cf (*cql_rdb.rocksdb_flush_cf)
#define rocksdb_flush_wal (*cql_rdb.rocksdb_flush_wal)
#define rocksdb_flushoptions_create (*cql_rdb.rocksdb_flushoptions_create)
#define rocksdb_flushoptions_destroy (*cql_rdb.rocksdb_flushoptions_destroy)
#define rocksdb_flushoptions_set_wait (*cql_rdb.rocksdb_flushoptions_set_wait)
#define rocksdb_free (*cql_rdb.rocksdb_free)
#define rocksdb_get_cf (*cql_rdb.rocksdb_get_cf)
#define rocksdb_options_set_bytes_per_sync (*cql_rdb.rocksdb_options_set_bytes_per_sync)
#define rocksdb_options_set_level0_file_num_compaction_trigger (*cql_rdb.rocksdb_options_set_level0_file_num_compaction_trigger)
#define rocksdb_iter_destroy (*cql_rdb.rocksdb_iter_destroy)
#define rocksdb_iter_get_error (*cql_rdb.rocksdb_iter_get_error)
#define rocksdb_iter_key (*cql_rdb.rocksdb_iter_key)
#define rocksdb_iter_next (*cql_rdb.rocksdb_iter_next)
#define rocksdb_iter_prev (*cql_rdb.rocksdb_iter_prev)
#define rocksdb_iter_seek (*cql_rdb.rocksdb_iter_seek)
#define rocksdb_iter_seek_for_prev (*cql_rdb.rocksdb_iter_seek_for_prev)
#define rocksdb_iter_seek_to_last (*cql_rdb.rocksdb_iter_seek_to_last)
#define rocksdb_iter_valid (*cql_rdb.rocksdb_iter_valid)
#define rocksdb_iter_value (*cql_rdb.rocksdb_iter_value)
#define rocksdb_mergeoperator_create (*cql_rdb.rocksdb_mergeoperator_create)
#define rocksdb_open_column_families (*cql_rdb.rocksdb_open_column_families)
#define rocksdb_options_create (*cql_rdb.rocksdb_options_create)
#define rocksdb_options_destroy (*cql_rdb.rocksdb_options_destroy)
#define rocksdb_options_set_block_based_table_factory (*cql_rdb.rocksdb_options_set_block_based_table_factory)
#define rocksdb_options_set_compression (*cql_rdb.rocksdb_options_set_compression)
#define rocksdb_options_set_compression_per_level (*cql_rdb.rocksdb_options_set_compression_per_level)
#define rocksdb_options_set_create_if_missing (*cql_rdb.rocksdb_options_set_create_if_missing)
#define rocksdb_options_set_create_missing_column_families (*cql_rdb.rocksdb_options_set_create_missing_column_families)
#define rocksdb_options_set_db_write_buffer_size (*cql_rdb.rocksdb_options_set_db_write_buffer_size)
#define rocksdb_options_set_info_log_level (*cql_rdb.rocksdb_options_set_info_log_level)
#define rocksdb_options_set_keep_log_file_num (*cql_rdb.rocksdb_options_set_keep_log_file_num)
#define rocksdb_options_set_level_compaction_dynamic_level_bytes (*cql_rdb.rocksdb_options_set_level_compaction_dynamic_level_bytes)
#define rocksdb_options_set_manual_wal_flush (*cql_rdb.rocksdb_options_set_manual_wal_flush)
#define rocksdb_options_set_max_background_jobs (*cql_rdb.rocksdb_options_set_max_background_jobs)
#define rocksdb_options_set_max_log_file_size (*cql_rdb.rocksdb_options_set_max_log_file_size)
#define rocksdb_options_set_max_open_files (*cql_rdb.rocksdb_options_set_max_open_files)
#define rocksdb_options_set_max_total_wal_size (*cql_rdb.rocksdb_options_set_max_total_wal_size)
#define rocksdb_options_set_max_write_buffer_number (*cql_rdb.rocksdb_options_set_max_write_buffer_number)
#define rocksdb_options_set_memtable_prefix_bloom_size_ratio (*cql_rdb.rocksdb_options_set_memtable_prefix_bloom_size_ratio)
#define rocksdb_options_set_memtable_whole_key_filtering (*cql_rdb.rocksdb_options_set_memtable_whole_key_filtering)
#define rocksdb_options_set_merge_operator (*cql_rdb.rocksdb_options_set_merge_operator)
#define rocksdb_options_set_prefix_extractor (*cql_rdb.rocksdb_options_set_prefix_extractor)
#define rocksdb_options_set_write_buffer_size (*cql_rdb.rocksdb_options_set_write_buffer_size)
#define rocksdb_put_cf (*cql_rdb.rocksdb_put_cf)
#define rocksdb_readoptions_create (*cql_rdb.rocksdb_readoptions_create)
#define rocksdb_readoptions_destroy (*cql_rdb.rocksdb_readoptions_destroy)
#define rocksdb_readoptions_set_iterate_lower_bound (*cql_rdb.rocksdb_readoptions_set_iterate_lower_bound)
#define rocksdb_readoptions_set_iterate_upper_bound (*cql_rdb.rocksdb_readoptions_set_iterate_upper_bound)
#define rocksdb_readoptions_set_prefix_same_as_start (*cql_rdb.rocksdb_readoptions_set_prefix_same_as_start)
#define rocksdb_readoptions_set_snapshot (*cql_rdb.rocksdb_readoptions_set_snapshot)
#define rocksdb_readoptions_set_total_order_seek (*cql_rdb.rocksdb_readoptions_set_total_order_seek)
#define rocksdb_release_snapshot (*cql_rdb.rocksdb_release_snapshot)
#define rocksdb_set_perf_level (*cql_rdb.rocksdb_set_perf_level)
#define rocksdb_slicetransform_create_fixed_prefix (*cql_rdb.rocksdb_slicetransform_create_fixed_prefix)
#define rocksdb_suggest_compact_range_cf (*cql_rdb.rocksdb_suggest_compact_range_cf)
#define rocksdb_write (*cql_rdb.rocksdb_write)
#define rocksdb_writebatch_clear (*cql_rdb.rocksdb_writebatch_clear)
#define rocksdb_writebatch_count (*cql_rdb.rocksdb_writebatch_count)
#define rocksdb_writebatch_create (*cql_rdb.rocksdb_writebatch_create)
#define rocksdb_writebatch_create_from (*cql_rdb.rocksdb_writebatch_create_from)
#define rocksdb_writebatch_data (*cql_rdb.rocksdb_writebatch_data)
#define rocksdb_writebatch_delete_range_cf (*cql_rdb.rocksdb_writebatch_delete_range_cf)
#define rocksdb_writebatch_destroy (*cql_rdb.rocksdb_writebatch_destroy)
#define rocksdb_writebatch_merge_cf (*cql_rdb.rocksdb_writebatch_merge_cf)
#define rocksdb_writeoptions_create (*cql_rdb.rocksdb_writeoptions_create)
#define rocksdb_writeoptions_destroy (*cql_rdb.rocksdb_writeoptions_destroy)
#define rocksdb_writeoptions_set_sync (*cql_rdb.rocksdb_writeoptions_set_sync)
/* clang-format on */
#endif

#endif
