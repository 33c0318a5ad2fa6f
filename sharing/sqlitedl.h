/*
 * sharing/sqlitedl.h - SQLite, loaded on first use
 *
 * Included by sharing/state.c alone, after <sqlite3.h>: its calls read as
 * before and keep the header's types, but each goes through a pointer
 * that kr_state_open fills (s_sqlite_ready: pthread_once, any thread) by
 * dlopen of KR_SQLITE_SONAME before the first connection is opened, and
 * configures SQLite there before anything else reaches it (every other
 * function of state.c takes a kr_state). SQLite is then loaded only by
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
	X(sqlite3_total_changes64) X(sqlite3_user_data) X(sqlite3_value_blob) X(sqlite3_value_bytes) X(sqlite3_value_pointer) \
	X(sqlite3_value_text) X(sqlite3_value_type)

#define X(f) static __typeof__(f) *p_##f;
KR_SQLITE_FUNCTIONS(X)
#undef X

#define sqlite3_backup_finish p_sqlite3_backup_finish
#define sqlite3_backup_init p_sqlite3_backup_init
#define sqlite3_backup_step p_sqlite3_backup_step
#define sqlite3_bind_blob64 p_sqlite3_bind_blob64
#define sqlite3_bind_int64 p_sqlite3_bind_int64
#define sqlite3_bind_null p_sqlite3_bind_null
#define sqlite3_bind_pointer p_sqlite3_bind_pointer
#define sqlite3_bind_text p_sqlite3_bind_text
#define sqlite3_busy_timeout p_sqlite3_busy_timeout
#define sqlite3_changes p_sqlite3_changes
#define sqlite3_clear_bindings p_sqlite3_clear_bindings
#define sqlite3_close p_sqlite3_close
#define sqlite3_close_v2 p_sqlite3_close_v2
#define sqlite3_column_blob p_sqlite3_column_blob
#define sqlite3_column_bytes p_sqlite3_column_bytes
#define sqlite3_column_int p_sqlite3_column_int
#define sqlite3_column_int64 p_sqlite3_column_int64
#define sqlite3_column_text p_sqlite3_column_text
#define sqlite3_config p_sqlite3_config
#define sqlite3_context_db_handle p_sqlite3_context_db_handle
#define sqlite3_create_function_v2 p_sqlite3_create_function_v2
#define sqlite3_db_release_memory p_sqlite3_db_release_memory
#define sqlite3_db_status p_sqlite3_db_status
#define sqlite3_errcode p_sqlite3_errcode
#define sqlite3_errmsg p_sqlite3_errmsg
#define sqlite3_errstr p_sqlite3_errstr
#define sqlite3_exec p_sqlite3_exec
#define sqlite3_finalize p_sqlite3_finalize
#define sqlite3_free p_sqlite3_free
#define sqlite3_get_autocommit p_sqlite3_get_autocommit
#define sqlite3_initialize p_sqlite3_initialize
#define sqlite3_last_insert_rowid p_sqlite3_last_insert_rowid
#define sqlite3_limit p_sqlite3_limit
#define sqlite3_malloc64 p_sqlite3_malloc64
#define sqlite3_open_v2 p_sqlite3_open_v2
#define sqlite3_prepare_v2 p_sqlite3_prepare_v2
#define sqlite3_prepare_v3 p_sqlite3_prepare_v3
#define sqlite3_reset p_sqlite3_reset
#define sqlite3_result_blob64 p_sqlite3_result_blob64
#define sqlite3_result_error p_sqlite3_result_error
#define sqlite3_result_error_code p_sqlite3_result_error_code
#define sqlite3_result_error_nomem p_sqlite3_result_error_nomem
#define sqlite3_result_text64 p_sqlite3_result_text64
#define sqlite3_result_value p_sqlite3_result_value
#define sqlite3_sleep p_sqlite3_sleep
#define sqlite3_status64 p_sqlite3_status64
#define sqlite3_step p_sqlite3_step
#define sqlite3_total_changes64 p_sqlite3_total_changes64
#define sqlite3_user_data p_sqlite3_user_data
#define sqlite3_value_blob p_sqlite3_value_blob
#define sqlite3_value_bytes p_sqlite3_value_bytes
#define sqlite3_value_pointer p_sqlite3_value_pointer
#define sqlite3_value_text p_sqlite3_value_text
#define sqlite3_value_type p_sqlite3_value_type

#endif
