/*
 * node/main.c - kairan: args -> command -> home -> run
 *
 * Start reading here. Global options come before the command
 * (`kairan --home DIR publish …`); each command parses its own. The
 * command table is in cli.c; `kairan help` prints it.
 *
 * Messages follow the locale (LANG, LC_ALL, LC_MESSAGES): Japanese from
 * the "kairan" catalog when it is Japanese, English otherwise; numbers
 * (LC_NUMERIC) stay "C" whatever the locale. The catalog is looked for in
 * $KAIRAN_LOCALEDIR, else next to the binary (build/locale in the build
 * tree), else in ../share/locale from it (the installed layout).
 */
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "serve.h"

#define KAIRAN_VERSION "0.1.0"

static void
s_usage(FILE *f)
{
	fputs(_("usage: kairan [--home DIR] [-v] COMMAND [ARGS]\n"
	    "       kairan help            list commands\n"
	    "       kairan COMMAND --help  help for one command\n"), f);
}

/* Whether dir/<any language> may hold catalogs: dir is a directory. */
static int
s_isdir(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The environment's language for messages (LC_MESSAGES) and characters
 * (LC_CTYPE), and where the catalog is. The other categories stay "C":
 * kairan formats numbers and dates itself, never by locale (LC_NUMERIC
 * must stay "C" for strtod), sorts bytes, and for C.UTF-8, whose files
 * are outside the locale archive, loading all thirteen of them was a
 * sixth of a short command's system calls (issue 13, start-up).
 */
static void
s_i18n_init(void)
{
	const char *env = getenv("KAIRAN_LOCALEDIR");
	char exe[PATH_MAX], dir[PATH_MAX + 32];
	ssize_t n;

	setlocale(LC_CTYPE, "");
	setlocale(LC_MESSAGES, "");
	if (env && *env) {
		bindtextdomain(KR_TEXTDOMAIN, env);
	} else if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		char *slash;
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		snprintf(dir, sizeof(dir), "%s/locale", exe);
		if (!s_isdir(dir))
			snprintf(dir, sizeof(dir), "%s/../share/locale", exe);
		if (s_isdir(dir))
			bindtextdomain(KR_TEXTDOMAIN, dir);
	}
	/* Content, files and messages are UTF-8 throughout. */
	bind_textdomain_codeset(KR_TEXTDOMAIN, "UTF-8");
}

int
main(int argc, char **argv)
{
	const char *home_opt = NULL;
	const kr_cmd *cmd;
	kr_cli cli;
	char *home;
	int i, verbose = 0, rc;

	s_i18n_init();
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--home") == 0 && i + 1 < argc) {
			home_opt = argv[++i];
		} else if (strncmp(argv[i], "--home=", 7) == 0) {
			home_opt = argv[i] + 7;
		} else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			verbose = 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("kairan %s\n", KAIRAN_VERSION);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			s_usage(stdout);
			return cmd_help(NULL, 0, NULL);
		} else {
			fprintf(stderr, _("kairan: unknown option '%s'\n"), argv[i]);
			s_usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		s_usage(stderr);
		return 2;
	}
	for (cmd = kr_commands; cmd->name; cmd++)
		if (strcmp(cmd->name, argv[i]) == 0)
			break;
	if (!cmd->name) {
		fprintf(stderr, _("kairan: '%s' is not a command (see: kairan help)\n"), argv[i]);
		return 2;
	}
	log_init(verbose);
	memset(&cli, 0, sizeof(cli));
	home = kr_home_path(home_opt);
	cli.home_path = home;
	if (cmd->flags & CMD_NEEDS_HOME) {
		int j;
		/* --help must work without a home */
		for (j = i + 1; j < argc; j++)
			if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0)
				break;
		if (j == argc && ((cmd->flags & CMD_IDENTITY) ? kr_home_open_identity(&cli.h, home)
		                  : (cmd->flags & CMD_HANDS_OVER) ? kr_home_open_config(&cli.h, home)
		                  : (cmd->flags & CMD_OWN) ? kr_home_open_own(&cli.h, home)
		                                           : kr_home_open(&cli.h, home)) < 0) {
			rc = kr_cli_fail(cmd->name);
			free(home);
			return rc;
		}
	}
	rc = cmd->fn(&cli, argc - i, argv + i);
	if (cmd->flags & CMD_NEEDS_HOME)
		kr_home_close(&cli.h);
	free(home);
	if (cli.reexec) {
		/* serve stopped for a key switch, which opening the home makes: the same command, the same PID */
		kr_serve_reexec();
		return 1;
	}
	return rc;
}
