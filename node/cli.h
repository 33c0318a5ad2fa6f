/*
 * node/cli.h - the command table and what commands share
 */
#ifndef KR_CLI_H
#define KR_CLI_H

#include "home.h"

/*
 * CMD_NEEDS_HOME: main opens the home (kr_home_open) before the command.
 * CMD_IDENTITY: with it, only config and keys (kr_home_open_identity): the
 * command reads who the node is and nothing it holds.
 * CMD_OWN: with it, kr_home_open_own: the command writes only this node's
 * own collections, and mirrored ones are not tidied or reconciled first.
 * CMD_HANDS_OVER: with it, only the config (kr_home_open_config): the
 * command hands its work to the node running on the home, and opens the
 * rest itself (as CMD_OWN) when none takes it.
 */
enum { CMD_NEEDS_HOME = 1, CMD_IDENTITY = 2, CMD_OWN = 4, CMD_HANDS_OVER = 8 };

typedef struct {
	const char *home_path;
	kr_home h;                  /* open when the command has CMD_NEEDS_HOME (only keys and config: CMD_IDENTITY) */
	int reexec;                 /* serve stopped to switch keys: main executes the command again */
} kr_cli;

typedef struct {
	const char *name;
	int (*fn)(kr_cli *c, int argc, char **argv);
	int flags;
	const char *args;           /* msgid: translated with _() where printed */
	const char *help;           /* msgid, likewise */
} kr_cmd;

extern const kr_cmd kr_commands[];

/* Prints "kairan: CMD: message" for the current error and returns 1. */
int kr_cli_fail(const char *cmd);
/* Prints each finding as "kairan: CMD: file:line: [warning: ]message [rule]" to stderr. */
void kr_cli_print_findings(const char *cmd, const kr_findings *f);
/* Prints usage for cmd to stderr and returns 2. */
int kr_cli_usage(const char *cmd);
/*
 * Finds item id (of kind, unless NULL) and reads its current text into
 * text; prints "kairan: CMD: …" and returns 1 on failure. *items (free
 * with kr_state_items_free) is set either way.
 */
int kr_cli_item(kr_cli *c, const char *cmd, const char *id, const char *kind,
    kr_state_item **items, size_t *n, kr_buf *text);
/* Looks up a publisher given as fingerprint, unique prefix (≥ 8), lg_code or "self". */
int kr_cli_publisher(kr_cli *c, const char *arg, char out[KR_FPR_HEX + 1]);

int cmd_init(kr_cli *c, int argc, char **argv);
int cmd_id(kr_cli *c, int argc, char **argv);
int cmd_allowed_signers(kr_cli *c, int argc, char **argv);
int cmd_publish(kr_cli *c, int argc, char **argv);
int cmd_log(kr_cli *c, int argc, char **argv);
int cmd_show(kr_cli *c, int argc, char **argv);
int cmd_follow(kr_cli *c, int argc, char **argv);
int cmd_unfollow(kr_cli *c, int argc, char **argv);
int cmd_peers(kr_cli *c, int argc, char **argv);
int cmd_serve(kr_cli *c, int argc, char **argv);
int cmd_sync(kr_cli *c, int argc, char **argv);
int cmd_status(kr_cli *c, int argc, char **argv);
int cmd_verify(kr_cli *c, int argc, char **argv);
int cmd_repair(kr_cli *c, int argc, char **argv);
int cmd_check(kr_cli *c, int argc, char **argv);
int cmd_withdraw(kr_cli *c, int argc, char **argv);
int cmd_export(kr_cli *c, int argc, char **argv);
int cmd_import(kr_cli *c, int argc, char **argv);
int cmd_diff(kr_cli *c, int argc, char **argv);
int cmd_derive(kr_cli *c, int argc, char **argv);
int cmd_search(kr_cli *c, int argc, char **argv);
int cmd_admit(kr_cli *c, int argc, char **argv);
int cmd_unpin(kr_cli *c, int argc, char **argv);
int cmd_reindex(kr_cli *c, int argc, char **argv);
int cmd_federation(kr_cli *c, int argc, char **argv);
int cmd_join(kr_cli *c, int argc, char **argv);
int cmd_audit(kr_cli *c, int argc, char **argv);
int cmd_config(kr_cli *c, int argc, char **argv);
int cmd_key(kr_cli *c, int argc, char **argv);
int cmd_backup(kr_cli *c, int argc, char **argv);
int cmd_restore(kr_cli *c, int argc, char **argv);
int cmd_help(kr_cli *c, int argc, char **argv);
/* node/cmd_board.c: the board at work (DESIGN §7) */
int cmd_endorse(kr_cli *c, int argc, char **argv);
int cmd_consult(kr_cli *c, int argc, char **argv);
int cmd_adopt(kr_cli *c, int argc, char **argv);
int cmd_export_faq(kr_cli *c, int argc, char **argv);
/* Appends the board's part of kairan status (JSON: a ",\"board\":{…}" member; text: printed). */
void kr_board_status(kr_cli *c, int json, kr_buf *out);

#endif
