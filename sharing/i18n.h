/*
 * sharing/i18n.h - the one place gettext is named (_(), N_(), kr_ngettext)
 *
 * Messages to people are written in English in the source and translated
 * at run time through the "kairan" text domain (po/ja.po, compiled to
 * <localedir>/<lang>/LC_MESSAGES/kairan.mo). Central helpers translate
 * their format themselves (kr_error, kr_error_prefix, kr_findings_add,
 * log_warn/log_warnx/log_info/fatal/fatalx, the command table's args and
 * help), so their call sites pass plain literals; any other literal
 * printed to a person is wrapped in _() where it is printed. Data (JSON,
 * CSV, TSV, protocol strings, file formats, log tags) is never translated.
 *
 * dgettext with an explicit domain: the library is also linked into test
 * tools that never call setlocale(), and there every message stays English
 * (the "C" locale translates nothing). node/main.c sets the locale up
 * (kr_i18n_init); LC_NUMERIC stays "C" so numbers in files and on the wire
 * never change with the user's locale.
 */
#ifndef KR_I18N_H
#define KR_I18N_H

#include <libintl.h>

#define KR_TEXTDOMAIN "kairan"

/* The translation of msgid s ("" stays "": gettext("") would be the catalog's header). */
static inline __attribute__((format_arg(1))) const char *
kr_gettext(const char *s)
{
	return s[0] ? dgettext(KR_TEXTDOMAIN, s) : s;
}
#define _(s) kr_gettext(s)
/* Marks a literal for extraction where it is defined; translate it with _() where printed. */
#define N_(s) (s)
/* One message for n things (Japanese has one form; English two). */
#define kr_ngettext(one, many, n) dngettext(KR_TEXTDOMAIN, one, many, (unsigned long)(n))

#endif
