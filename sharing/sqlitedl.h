/*
 * sharing/sqlitedl.h - SQLite, loaded on first use
 *
 * Included by sharing/state.c alone, after <sqlite3.h>: its calls read as
 * before and keep the header's types, but each goes through a pointer
 * that s_sqlite_ready fills (pthread_once: any thread, the first call of
 * any of them) by dlopen of KR_SQLITE_SONAME, and SQLite is configured
 * there before anything else reaches it. SQLite is then loaded only by
 * commands that open state.db, not by `kairan id` or by `kairan publish`
 * handing its items to the running node (issue 13, start-up).
 */
#ifndef KR_SQLITEDL_H
#define KR_SQLITEDL_H

#define KR_SQLITE_FUNCTIONS(X) X(sqlite3_backup_finish) X(sqlite3_backup_init) X(sqlite3_backup_step) \
	X(sqlite3_bind_blob64) X(sqlite3_bind_int64) X(sqlite3_bind_null) X(sqlite3_bind_pointer) \
	X(sqlite3_bind_text) X(sqlite3_busy_timeout) X(sqlite3_changes) X(sqlite3_clear_bindings) X(sqlite3_close) \
	X(sqlite3_close_v2) X(sqlite3_column_blob) X(sqlite3_column_bytes) X(sqlite3_column_int) \
	X(sqlite3_column_int64) X(sqlite3_column_text) X(sqlite3_config) X(sqlite3_context_db_handle) \
	X(sqlite3_create_function_v2) X(sqlite3_db_release_memory) X(sqlite3_db_status) X(sqlite3_errcode) \
	X(sqlite3_errmsg) X(sqlite3_errstr) X(sqlite3_exec) X(sqlite3_finalize) X(sqlite3_free) \
	X(sqlite3_get_autocommit) X(sqlite3_initialize) X(sqlite3_last_insert_rowid) X(sqlite3_limit) \
	X(sqlite3_malloc64) X(sqlite3_open_v2) X(sqlite3_prepare_v2) X(sqlite3_prepare_v3) X(sqlite3_reset) \
	X(sqlite3_result_blob64) X(sqlite3_result_error) X(sqlite3_result_error_code) X(sqlite3_result_error_nomem) \
	X(sqlite3_result_text64) X(sqlite3_result_value) X(sqlite3_sleep) X(sqlite3_status64) X(sqlite3_step) \
	X(sqlite3_total_changes64) X(sqlite3_value_blob) X(sqlite3_value_bytes) X(sqlite3_value_pointer) \
	X(sqlite3_value_text) X(sqlite3_value_type)

#define X(f) static __typeof__(f) *p_##f;
KR_SQLITE_FUNCTIONS(X)
#undef X
static void s_sqlite_ready(void);

#define sqlite3_backup_finish (s_sqlite_ready(), p_sqlite3_backup_finish)
#define sqlite3_backup_init (s_sqlite_ready(), p_sqlite3_backup_init)
#define sqlite3_backup_step (s_sqlite_ready(), p_sqlite3_backup_step)
#define sqlite3_bind_blob64 (s_sqlite_ready(), p_sqlite3_bind_blob64)
#define sqlite3_bind_int64 (s_sqlite_ready(), p_sqlite3_bind_int64)
#define sqlite3_bind_null (s_sqlite_ready(), p_sqlite3_bind_null)
#define sqlite3_bind_pointer (s_sqlite_ready(), p_sqlite3_bind_pointer)
#define sqlite3_bind_text (s_sqlite_ready(), p_sqlite3_bind_text)
#define sqlite3_busy_timeout (s_sqlite_ready(), p_sqlite3_busy_timeout)
#define sqlite3_changes (s_sqlite_ready(), p_sqlite3_changes)
#define sqlite3_clear_bindings (s_sqlite_ready(), p_sqlite3_clear_bindings)
#define sqlite3_close (s_sqlite_ready(), p_sqlite3_close)
#define sqlite3_close_v2 (s_sqlite_ready(), p_sqlite3_close_v2)
#define sqlite3_column_blob (s_sqlite_ready(), p_sqlite3_column_blob)
#define sqlite3_column_bytes (s_sqlite_ready(), p_sqlite3_column_bytes)
#define sqlite3_column_int (s_sqlite_ready(), p_sqlite3_column_int)
#define sqlite3_column_int64 (s_sqlite_ready(), p_sqlite3_column_int64)
#define sqlite3_column_text (s_sqlite_ready(), p_sqlite3_column_text)
#define sqlite3_config (s_sqlite_ready(), p_sqlite3_config)
#define sqlite3_context_db_handle (s_sqlite_ready(), p_sqlite3_context_db_handle)
#define sqlite3_create_function_v2 (s_sqlite_ready(), p_sqlite3_create_function_v2)
#define sqlite3_db_release_memory (s_sqlite_ready(), p_sqlite3_db_release_memory)
#define sqlite3_db_status (s_sqlite_ready(), p_sqlite3_db_status)
#define sqlite3_errcode (s_sqlite_ready(), p_sqlite3_errcode)
#define sqlite3_errmsg (s_sqlite_ready(), p_sqlite3_errmsg)
#define sqlite3_errstr (s_sqlite_ready(), p_sqlite3_errstr)
#define sqlite3_exec (s_sqlite_ready(), p_sqlite3_exec)
#define sqlite3_finalize (s_sqlite_ready(), p_sqlite3_finalize)
#define sqlite3_free (s_sqlite_ready(), p_sqlite3_free)
#define sqlite3_get_autocommit (s_sqlite_ready(), p_sqlite3_get_autocommit)
#define sqlite3_initialize (s_sqlite_ready(), p_sqlite3_initialize)
#define sqlite3_last_insert_rowid (s_sqlite_ready(), p_sqlite3_last_insert_rowid)
#define sqlite3_limit (s_sqlite_ready(), p_sqlite3_limit)
#define sqlite3_malloc64 (s_sqlite_ready(), p_sqlite3_malloc64)
#define sqlite3_open_v2 (s_sqlite_ready(), p_sqlite3_open_v2)
#define sqlite3_prepare_v2 (s_sqlite_ready(), p_sqlite3_prepare_v2)
#define sqlite3_prepare_v3 (s_sqlite_ready(), p_sqlite3_prepare_v3)
#define sqlite3_reset (s_sqlite_ready(), p_sqlite3_reset)
#define sqlite3_result_blob64 (s_sqlite_ready(), p_sqlite3_result_blob64)
#define sqlite3_result_error (s_sqlite_ready(), p_sqlite3_result_error)
#define sqlite3_result_error_code (s_sqlite_ready(), p_sqlite3_result_error_code)
#define sqlite3_result_error_nomem (s_sqlite_ready(), p_sqlite3_result_error_nomem)
#define sqlite3_result_text64 (s_sqlite_ready(), p_sqlite3_result_text64)
#define sqlite3_result_value (s_sqlite_ready(), p_sqlite3_result_value)
#define sqlite3_sleep (s_sqlite_ready(), p_sqlite3_sleep)
#define sqlite3_status64 (s_sqlite_ready(), p_sqlite3_status64)
#define sqlite3_step (s_sqlite_ready(), p_sqlite3_step)
#define sqlite3_total_changes64 (s_sqlite_ready(), p_sqlite3_total_changes64)
#define sqlite3_value_blob (s_sqlite_ready(), p_sqlite3_value_blob)
#define sqlite3_value_bytes (s_sqlite_ready(), p_sqlite3_value_bytes)
#define sqlite3_value_pointer (s_sqlite_ready(), p_sqlite3_value_pointer)
#define sqlite3_value_text (s_sqlite_ready(), p_sqlite3_value_text)
#define sqlite3_value_type (s_sqlite_ready(), p_sqlite3_value_type)

#endif
