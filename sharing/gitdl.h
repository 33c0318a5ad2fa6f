/*
 * sharing/gitdl.h - libgit2, loaded when a store is first opened
 *
 * Included by sharing/store.c alone, after <git2.h>: its calls read as
 * before and keep the headers' types, but each goes through a pointer
 * that store.c's s_git_init fills by dlopen of KR_GIT_SONAME, once per
 * process, before the first repository is opened (every other function
 * of store.c takes a kr_store or something made from one). libgit2 and
 * what Debian builds it with (mbedTLS, libssh2, OpenSSL, http-parser,
 * PCRE2, the Kerberos libraries: 13 shared libraries) are then loaded
 * only by commands that open a repository, not by `kairan id`, `check`,
 * a local `search`, or `kairan publish` handing its items to the running
 * node (issue 13, start-up).
 */
#ifndef KR_GITDL_H
#define KR_GITDL_H

#define KR_GIT_FUNCTIONS(X) X(git_blob_create_from_buffer) X(git_blob_free) X(git_blob_lookup) \
	X(git_blob_rawcontent) X(git_blob_rawsize) X(git_buf_dispose) X(git_commit_author) X(git_commit_create_buffer) \
	X(git_commit_create_with_signature) X(git_commit_extract_signature) X(git_commit_free) X(git_commit_id) \
	X(git_commit_lookup) X(git_commit_message) X(git_commit_parent) X(git_commit_parent_id) \
	X(git_commit_parentcount) X(git_commit_time) X(git_commit_tree) X(git_commit_tree_id) X(git_error_clear) \
	X(git_error_last) X(git_graph_descendant_of) X(git_indexer_append) X(git_indexer_commit) X(git_indexer_free) \
	X(git_indexer_name) X(git_indexer_new) X(git_indexer_options_init) X(git_libgit2_init) X(git_libgit2_opts) \
	X(git_libgit2_shutdown) X(git_object_free) X(git_object_id) X(git_object_lookup_prefix) \
	X(git_object_type2string) X(git_odb_add_backend) X(git_odb_backend_data_alloc) X(git_odb_exists_ext) \
	X(git_odb_exists_prefix) X(git_odb_free) X(git_odb_hash) X(git_odb_init_backend) X(git_odb_new) \
	X(git_odb_object_data) X(git_odb_object_free) X(git_odb_object_id) X(git_odb_object_size) \
	X(git_odb_object_type) X(git_odb_read) X(git_odb_read_header) X(git_odb_read_prefix) X(git_odb_refresh) X(git_odb_write) \
	X(git_oid_cmp) X(git_oid_cpy) X(git_oid_equal) X(git_oid_fromraw) X(git_oid_fromstrn) X(git_oid_is_zero) \
	X(git_oid_tostr) X(git_reference_create) X(git_reference_create_matching) X(git_reference_free) \
	X(git_reference_name_to_id) X(git_reference_remove) X(git_repository__cleanup) X(git_repository_free) \
	X(git_repository_init_ext) X(git_repository_init_options_init) X(git_repository_odb) \
	X(git_repository_open_bare) X(git_repository_path) X(git_repository_set_odb) X(git_signature_free) \
	X(git_signature_new) X(git_tree_create_updated) X(git_tree_entry_byindex) X(git_tree_entry_byname) \
	X(git_tree_entry_bypath) X(git_tree_entry_filemode) X(git_tree_entry_filemode_raw) X(git_tree_entry_free) X(git_tree_entry_id) \
	X(git_tree_entry_name) X(git_tree_entry_type) X(git_tree_entrycount) X(git_tree_free) X(git_tree_id) \
	X(git_tree_lookup)

#define X(f) static __typeof__(f) *p_##f;
KR_GIT_FUNCTIONS(X)
#undef X

#define git_blob_create_from_buffer p_git_blob_create_from_buffer
#define git_blob_free p_git_blob_free
#define git_blob_lookup p_git_blob_lookup
#define git_blob_rawcontent p_git_blob_rawcontent
#define git_blob_rawsize p_git_blob_rawsize
#define git_buf_dispose p_git_buf_dispose
#define git_commit_author p_git_commit_author
#define git_commit_create_buffer p_git_commit_create_buffer
#define git_commit_create_with_signature p_git_commit_create_with_signature
#define git_commit_extract_signature p_git_commit_extract_signature
#define git_commit_free p_git_commit_free
#define git_commit_id p_git_commit_id
#define git_commit_lookup p_git_commit_lookup
#define git_commit_message p_git_commit_message
#define git_commit_parent p_git_commit_parent
#define git_commit_parent_id p_git_commit_parent_id
#define git_commit_parentcount p_git_commit_parentcount
#define git_commit_time p_git_commit_time
#define git_commit_tree p_git_commit_tree
#define git_commit_tree_id p_git_commit_tree_id
#define git_error_clear p_git_error_clear
#define git_error_last p_git_error_last
#define git_graph_descendant_of p_git_graph_descendant_of
#define git_indexer_append p_git_indexer_append
#define git_indexer_commit p_git_indexer_commit
#define git_indexer_free p_git_indexer_free
#define git_indexer_name p_git_indexer_name
#define git_indexer_new p_git_indexer_new
#define git_indexer_options_init p_git_indexer_options_init
#define git_libgit2_init p_git_libgit2_init
#define git_libgit2_opts p_git_libgit2_opts
#define git_libgit2_shutdown p_git_libgit2_shutdown
#define git_object_free p_git_object_free
#define git_object_id p_git_object_id
#define git_object_lookup_prefix p_git_object_lookup_prefix
#define git_object_type2string p_git_object_type2string
#define git_odb_add_backend p_git_odb_add_backend
#define git_odb_backend_data_alloc p_git_odb_backend_data_alloc
#define git_odb_exists_ext p_git_odb_exists_ext
#define git_odb_exists_prefix p_git_odb_exists_prefix
#define git_odb_free p_git_odb_free
#define git_odb_hash p_git_odb_hash
#define git_odb_init_backend p_git_odb_init_backend
#define git_odb_new p_git_odb_new
#define git_odb_object_data p_git_odb_object_data
#define git_odb_object_free p_git_odb_object_free
#define git_odb_object_id p_git_odb_object_id
#define git_odb_object_size p_git_odb_object_size
#define git_odb_object_type p_git_odb_object_type
#define git_odb_read p_git_odb_read
#define git_odb_read_header p_git_odb_read_header
#define git_odb_read_prefix p_git_odb_read_prefix
#define git_odb_refresh p_git_odb_refresh
#define git_odb_write p_git_odb_write
#define git_oid_cmp p_git_oid_cmp
#define git_oid_cpy p_git_oid_cpy
#define git_oid_equal p_git_oid_equal
#define git_oid_fromraw p_git_oid_fromraw
#define git_oid_fromstrn p_git_oid_fromstrn
#define git_oid_is_zero p_git_oid_is_zero
#define git_oid_tostr p_git_oid_tostr
#define git_reference_create p_git_reference_create
#define git_reference_create_matching p_git_reference_create_matching
#define git_reference_free p_git_reference_free
#define git_reference_name_to_id p_git_reference_name_to_id
#define git_reference_remove p_git_reference_remove
#define git_repository__cleanup p_git_repository__cleanup
#define git_repository_free p_git_repository_free
#define git_repository_init_ext p_git_repository_init_ext
#define git_repository_init_options_init p_git_repository_init_options_init
#define git_repository_odb p_git_repository_odb
#define git_repository_open_bare p_git_repository_open_bare
#define git_repository_path p_git_repository_path
#define git_repository_set_odb p_git_repository_set_odb
#define git_signature_free p_git_signature_free
#define git_signature_new p_git_signature_new
#define git_tree_create_updated p_git_tree_create_updated
#define git_tree_entry_byindex p_git_tree_entry_byindex
#define git_tree_entry_byname p_git_tree_entry_byname
#define git_tree_entry_bypath p_git_tree_entry_bypath
#define git_tree_entry_filemode p_git_tree_entry_filemode
#define git_tree_entry_filemode_raw p_git_tree_entry_filemode_raw
#define git_tree_entry_free p_git_tree_entry_free
#define git_tree_entry_id p_git_tree_entry_id
#define git_tree_entry_name p_git_tree_entry_name
#define git_tree_entry_type p_git_tree_entry_type
#define git_tree_entrycount p_git_tree_entrycount
#define git_tree_free p_git_tree_free
#define git_tree_id p_git_tree_id
#define git_tree_lookup p_git_tree_lookup

#endif
