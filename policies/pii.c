/*
 * policies/pii.c - personal-information scan
 *
 * Each line is normalised (sharing/text.c: NFKC, case, kana) and walked
 * once. Digit groups joined by hyphen-like characters (FACTS.md: NFKC
 * leaves ‐ ‑ ‒ – — ― − ー as they are), spaces or brackets are classified
 * as a マイナンバー, a 法人番号, a phone number or a postal code; e-mail
 * addresses around '@'; street addresses by 丁目/番地/号 or a 1-2-3
 * pattern after a place name; birth dates only near birth-date words,
 * because bare dates are everywhere (edition histories).
 *
 * Linear in the text: every look-around from a position is bounded (a
 * date spans at most DATE_SPAN bytes, an e-mail domain ends where its
 * characters do) and what depends only on the line (context words, the
 * address allow-list) is computed once per line. Lines end at LF, CRLF
 * or CR (lines.h), as in the front matter.
 */
#include "pii.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../sharing/text.h"
#include "lines.h"

#define DATE_SPAN 40    /* bytes: "2024年12月31日" is 17, an era date some more */

/* Context words, in normalised form (katakana folded to hiragana). */
static const char *const s_mynumber_ctx[] = { "個人番号", "まいなんばー", "my number", "mynumber" };
static const char *const s_birth_ctx[] = { "生年月日", "誕生日" };
static const char *const s_home_ctx[] = { "自宅", "住所", "様方", "在住", "お住まい" };
static const char *const s_free_mail[] = {
	"gmail.com", "yahoo.co.jp", "icloud.com", "outlook.jp", "outlook.com", "hotmail.com",
	"docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp",
};

int
kr_pii_mynumber_valid(const char *d)
{
	int sum = 0, r;

	for (int n = 1; n <= 11; n++) {
		int p = d[11 - n] - '0';
		sum += p * (n <= 6 ? n + 1 : n - 5);
	}
	r = sum % 11;
	return d[11] - '0' == (r <= 1 ? 0 : 11 - r);
}

int
kr_pii_corporate_valid(const char *d)
{
	int sum = 0;

	for (int n = 1; n <= 12; n++)
		sum += (d[13 - n] - '0') * (n % 2 ? 1 : 2);
	return d[0] - '0' == 9 - sum % 9;
}

static int
s_any(const char *line, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(line, words[i]))
			return 1;
	return 0;
}

/* Length of a hyphen-like character at p, else 0. */
static int
s_hyphen(const char *p)
{
	static const char *const h[] = { "-", "‐", "‑", "‒", "–", "—", "―", "−", "ー", "～" };

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (strncmp(p, h[i], strlen(h[i])) == 0)
			return (int)strlen(h[i]);
	return 0;
}

static int
s_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits of s only (for allow-list comparisons). */
static void
s_digits_only(kr_buf *out, const char *s)
{
	for (; *s; s++)
		if (s_digit(*s))
			kr_buf_addch(out, *s);
}

static int
s_phone_allowed(const kr_pii_allow *allow, const char *digits)
{
	const char *p;
	kr_buf one = KR_BUF_INIT;
	int hit = 0;

	if (!allow || !allow->phones)
		return 0;
	for (p = allow->phones; !hit;) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		char *entry = kr_strndup(p, l);
		kr_buf_clear(&one);
		s_digits_only(&one, entry);
		hit = one.len && strcmp(one.ptr, digits) == 0;
		free(entry);
		if (!comma)
			break;
		p = comma + 1;
	}
	kr_buf_release(&one);
	return hit;
}

static int
s_address_allowed(const kr_pii_allow *allow, const char *line)
{
	const char *p;
	int hit = 0;

	if (!allow || !allow->addresses)
		return 0;
	for (p = allow->addresses; !hit;) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		char *entry;
		while (l && *p == ' ') {
			p++;
			l--;
		}
		entry = kr_strndup(p, l);
		hit = *entry && strstr(line, entry) != NULL;
		free(entry);
		if (!comma)
			break;
		p = comma + 1;
	}
	return hit;
}

/* The allow-list answer for a line, computed at its first address. */
static int
s_line_allowed(const kr_pii_allow *allow, const char *line, int *cached)
{
	if (*cached < 0)
		*cached = s_address_allowed(allow, line);
	return *cached;
}

/*
 * Digit groups starting at p: digits separated by single hyphens, spaces or
 * brackets. Fills groups (lengths), digits (concatenated) and returns the
 * bytes consumed.
 */
static size_t
s_groups(const char *p, int *groups, int *ngroups, kr_buf *digits, int *hyphens)
{
	const char *s = p, *last_end = p;

	*ngroups = 0;
	*hyphens = 0;
	kr_buf_clear(digits);
	while (*ngroups < 8) {
		int n = 0;
		while (s_digit(*s)) {
			kr_buf_addch(digits, *s++);
			n++;
		}
		if (!n)
			break;
		groups[(*ngroups)++] = n;
		last_end = s;
		{
			int h = s_hyphen(s);
			if (h && s_digit(s[h])) {
				s += h;
				(*hyphens)++;
			} else if ((*s == ' ' || *s == '(' || *s == ')') && s_digit(s[1])) {
				s++;
			} else if (*s == ')' && s[1] == ' ' && s_digit(s[2])) {
				s += 2;
			} else {
				break;
			}
		}
	}
	return (size_t)(last_end - p);
}

static void
s_find(kr_findings *f, const char *file, int line, int block, const char *rule, const char *what,
    const char *span, size_t len)
{
	kr_findings_add(f, file, line, block, rule, "%s: \"%.*s\"%s", what, (int)len, span,
	    block ? " may not be published (remove it, or keep the item local)" : " (check it is meant to be public)");
}

static void
s_scan_line(const char *file, int lineno, const char *line, const kr_pii_allow *allow, kr_findings *f)
{
	int mynumber_ctx = s_any(line, s_mynumber_ctx, 4);
	int birth_ctx = s_any(line, s_birth_ctx, 2);
	int home_ctx = s_any(line, s_home_ctx, 5);
	kr_buf digits = KR_BUF_INIT;
	const char *p = line;
	int addr_allowed = -1; /* s_address_allowed(allow, line), once it is needed */

	/* 満N歳 (an age), not 満足度 (satisfaction) */
	for (const char *m = line; *m && !birth_ctx; m++) {
		const char *d = m + 3;
		if ((unsigned char)*m != 0xE6 || strncmp(m, "満", 3) != 0)
			continue; /* not strstr from each hit: that rereads the line under ASan */
		while (s_digit(*d))
			d++;
		birth_ctx = d > m + 3 && strncmp(d, "歳", 3) == 0;
	}
	while (*p) {
		int groups[8], ng, hy;
		size_t n;

		if (!s_digit(*p) || (p > line && s_digit(p[-1]))) {
			/* e-mail: around '@' */
			if (*p == '@' && p > line) {
				const char *a = p, *b = p + 1;
				while (a > line && (isalnum((unsigned char)a[-1]) || strchr("._%+-", a[-1])))
					a--;
				while (*b && (isalnum((unsigned char)*b) || *b == '.' || *b == '-'))
					b++;
				if (a < p && b > p + 1 && memchr(p + 1, '.', (size_t)(b - p - 1))) {
					char *dom = kr_strndup(p + 1, (size_t)(b - p - 1));
					char *local = kr_strndup(a, (size_t)(p - a));
					size_t dl = strlen(dom);
					int org = (dl >= 5 && strcmp(dom + dl - 5, "lg.jp") == 0) ||
					    (dl >= 5 && strcmp(dom + dl - 5, "go.jp") == 0);
					int free_mail = 0;
					for (size_t i = 0; i < sizeof(s_free_mail) / sizeof(s_free_mail[0]); i++)
						free_mail |= strcmp(dom, s_free_mail[i]) == 0;
					if (!org)
						s_find(f, file, lineno, free_mail, "pii.email",
						    free_mail ? "personal e-mail address" : strchr(local, '.') ?
						    "e-mail address that looks personal (姓.名)" : "e-mail address outside lg.jp",
						    a, (size_t)(b - a));
					free(dom);
					free(local);
				}
				p = b;
				continue;
			}
			p++;
			p += strcspn(p, "0123456789@"); /* up to what the branches above look at */
			continue;
		}
		n = s_groups(p, groups, &ng, &digits, &hy);
		if (digits.len == 12 && (ng == 1 || (ng == 3 && groups[0] == 4 && groups[1] == 4 && groups[2] == 4))) {
			if (kr_pii_mynumber_valid(digits.ptr))
				s_find(f, file, lineno, mynumber_ctx, "pii.mynumber",
				    mynumber_ctx ? "マイナンバー (個人番号)" : "12-digit number with a valid マイナンバー check digit",
				    p, n);
		} else if (digits.len == 13 && ng == 1 && kr_pii_corporate_valid(digits.ptr)) {
			s_find(f, file, lineno, 0, "pii.corporate-number", "法人番号 (public, reported only)", p, n);
		} else if (digits.ptr[0] == '0' && ng >= 2 && ng <= 3 &&
		    (digits.len == 10 || digits.len == 11) && groups[ng - 1] == 4) {
			int business = strncmp(digits.ptr, "0120", 4) == 0 || strncmp(digits.ptr, "0800", 4) == 0 ||
			    strncmp(digits.ptr, "0570", 4) == 0;
			int mobile = digits.len == 11 && digits.ptr[1] >= '5' && digits.ptr[1] <= '9' && digits.ptr[2] == '0';
			if (!business && !s_phone_allowed(allow, digits.ptr))
				s_find(f, file, lineno, mobile, mobile ? "pii.phone-mobile" : "pii.phone",
				    mobile ? "mobile or IP phone number" : "phone number (allow-list the office's own numbers in the node config)",
				    p, n);
		} else if (ng == 2 && groups[0] == 3 && groups[1] == 4 && hy == 1 && p - line >= 3 &&
		    (strncmp(p - 3, "〒", 3) == 0 || (p - line >= 4 && strncmp(p - 4, "〒 ", 4) == 0))) {
			if (!s_line_allowed(allow, line, &addr_allowed))
				s_find(f, file, lineno, 0, "pii.postal", "postal code", p, n);
		} else if (hy >= 1 && ng >= 2 && ng <= 3 && groups[0] <= 4 && p - line >= 3 &&
		    (unsigned char)p[-3] >= 0xE4 && (unsigned char)p[-3] <= 0xE9) {
			/* a kanji place name then 2373-1 or 1-2-3: a street address (高瀬町下勝間2373-1) */
			if (!s_line_allowed(allow, line, &addr_allowed))
				s_find(f, file, lineno, home_ctx, "pii.address", "street address", p, n);
		} else if (ng == 1 && (strncmp(p + n, "丁目", 6) == 0 || strncmp(p + n, "番地", 6) == 0 ||
		    (strncmp(p + n, "番", 3) == 0 && s_digit(p[n + 3])))) {
			if (!s_line_allowed(allow, line, &addr_allowed))
				s_find(f, file, lineno, home_ctx, "pii.address", "street address", p, n + 6);
		}
		/* birth dates: only with birth-date words on the line, or 生(まれ) right after the date */
		{
			const char *q = p + n;
			while (*q && q - p < DATE_SPAN && (s_digit(*q) || strncmp(q, "年", 3) == 0 ||
			    strncmp(q, "月", 3) == 0 || strncmp(q, "日", 3) == 0 || *q == '/' || *q == '.'))
				q += (unsigned char)*q < 0x80 ? 1 : 3;
			if (strncmp(q, "生", 3) == 0 && (strncmp(p + strspn(p, "0123456789"), "年", 3) == 0 ||
			    strchr("/.", p[strspn(p, "0123456789")])))
				birth_ctx = 1;
		}
		if (birth_ctx) {
			static const char *const eras[] = { "明治", "大正", "昭和", "平成", "令和" };
			const char *q = p + strspn(p, "0123456789");
			size_t span = 0;
			int era = 0;
			for (size_t i = 0; i < 5 && !era; i++)
				era = p - line >= 6 && strncmp(p - 6, eras[i], 6) == 0;
			era |= p - line >= 1 && strchr("mtshr", p[-1]) && (p - line == 1 || !isalpha((unsigned char)p[-2]));
			if ((strncmp(q, "年", 3) == 0 && s_digit(q[3])) ||
			    ((*q == '/' || *q == '.' || *q == '-') && s_digit(q[1]) && (era || q - p == 4))) {
				while (q[span] && span < DATE_SPAN && !strchr(" 、。,)", q[span]))
					span++; /* strcspn, bounded: the date, not the rest of the line */
				s_find(f, file, lineno, 1, "pii.birthdate", "date of birth", era && p - line >= 6 &&
				    ((unsigned char)p[-6] >= 0xE3) ? p - 6 : p, span + (size_t)(q - p) +
				    (era && p - line >= 6 && (unsigned char)p[-6] >= 0xE3 ? 6 : 0));
				birth_ctx = 0; /* once per line */
			}
		}
		p += n ? n : 1;
	}
	kr_buf_release(&digits);
}

void
kr_pii_scan(const char *file, const char *text, size_t len, const kr_pii_allow *allow, kr_findings *f)
{
	const char *p = text, *end = text + len;
	int lineno = 1;
	kr_buf norm = KR_BUF_INIT;

	while (p < end) {
		const char *next;
		size_t l = kr_line(p, end, &next);
		kr_buf_clear(&norm);
		kr_text_normalize(&norm, p, l);
		s_scan_line(file, lineno, norm.ptr, allow, f);
		lineno++;
		p = next;
	}
	kr_buf_release(&norm);
}
