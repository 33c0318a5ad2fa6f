/*
 * policies/values.c - numbers and dates as Japanese offices write them
 *
 * Everything is first made half-width (kr_value_halfwidth), then read by
 * a small grammar; anything the grammar does not take is refused with
 * the reason, so a caller never stores a value that was guessed. Era
 * years follow FACTS.md: 明治 1868 (from 1 January, as the era was made
 * retroactive), 大正 1912-07-30, 昭和 1926-12-25, 平成 1989-01-08,
 * 令和 2019-05-01; 元年 is year 1.
 */
#include "values.h"

#include "../sharing/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
kr_value_halfwidth(const char *s)
{
	kr_buf b = KR_BUF_INIT;
	size_t len = strlen(s), i = 0;
	char *out;

	kr_buf_grow(&b, len + 1);
	while (i < len) {
		uint32_t cp;
		size_t l = kr_utf8_next(s + i, len - i, &cp);
		if (l == 0)
			l = 1;
		if (cp >= 0xFF01 && cp <= 0xFF5E)
			kr_buf_addch(&b, (char)(cp - 0xFF01 + 0x21));
		else if (cp == 0x3000)
			kr_buf_addch(&b, ' ');
		else if (cp == 0x2212 || cp == 0x2010 || cp == 0x2011)
			kr_buf_addch(&b, '-');
		else
			kr_buf_add(&b, s + i, l);
		i += l;
	}
	out = kr_buf_detach(&b);
	/* trim ASCII spaces, tabs and line ends at both ends */
	{
		size_t a = strspn(out, " \t\r\n"), e = strlen(out);
		while (e > a && strchr(" \t\r\n", out[e - 1]))
			e--;
		memmove(out, out + a, e - a);
		out[e - a] = '\0';
	}
	return out;
}

/* Units accepted after a number; the longest match wins. */
static const char *const s_units[] = {
	"%", "円", "千円", "万円", "時間", "分", "秒", "日", "人", "件", "回", "個", "台", "か所", "箇所",
	"ヶ所", "校", "施設", "世帯", "名", "本", "枚", "頁", "ページ", "文字", "ポイント", "pt", "h",
};

static int
s_digits(const char *p)
{
	return (int)strspn(p, "0123456789");
}

int
kr_value_number(const char *s, char **out, char **unit)
{
	char *h = kr_value_halfwidth(s), *p = h;
	kr_buf num = KR_BUF_INIT;
	int rc = 0, neg = 0, yen = 0, n;

	*out = *unit = NULL;
	for (int pass = 0; pass < 2; pass++) {
		/* a sign and a yen mark, in either order: -¥1,000 and ¥-1,000 */
		if (!neg && (strncmp(p, "▲", 3) == 0 || strncmp(p, "△", 3) == 0)) { /* 会計の負号 */
			neg = 1;
			p += 3;
		} else if (!neg && (*p == '-' || *p == '+')) {
			neg = *p == '-' ? 1 : 2;
			p++;
		}
		/* ¥, ￥, or the backslash CP932 turns the yen mark into (Excel's currency cells) */
		if (!yen && (strncmp(p, "¥", 2) == 0 || strncmp(p, "￥", 3) == 0 || *p == '\\')) {
			yen = 1;
			p += *p == '\\' ? 1 : strncmp(p, "¥", 2) == 0 ? 2 : 3;
		}
	}
	neg = neg == 1;
	if ((n = s_digits(p)) == 0) {
		rc = kr_error(KR_EUSAGE, "'%s' is not a number (no digits%s)", s,
		    *p == '.' ? " before the decimal point" : "");
		goto done;
	}
	if (neg)
		kr_buf_addch(&num, '-');
	if (p[n] == ',') {
		/* thousands separators: 1 to 3 digits, then groups of exactly 3 */
		if (n > 3) {
			rc = kr_error(KR_EUSAGE, "'%s' has a thousands separator in the wrong place "
			    "(write 62,000 or 62000)", s);
			goto done;
		}
		kr_buf_add(&num, p, (size_t)n);
		p += n;
		while (*p == ',') {
			if (s_digits(p + 1) != 3) {
				rc = kr_error(KR_EUSAGE, "'%s' has a thousands separator in the wrong place "
				    "(groups of three digits: 62,000; a decimal point is '.')", s);
				goto done;
			}
			kr_buf_add(&num, p + 1, 3);
			p += 4;
		}
	} else {
		kr_buf_add(&num, p, (size_t)n);
		p += n;
	}
	if (*p == '.') {
		if ((n = s_digits(p + 1)) == 0) {
			rc = kr_error(KR_EUSAGE, "'%s' has no digits after the decimal point", s);
			goto done;
		}
		kr_buf_add(&num, p, (size_t)n + 1);
		p += n + 1;
		if (*p == ',') {
			rc = kr_error(KR_EUSAGE, "'%s' has a thousands separator after the decimal point", s);
			goto done;
		}
	}
	while (*p == ' ')
		p++;
	if (yen && *p) {
		rc = kr_error(KR_EUSAGE, "'%s' is not a number: it has a yen mark and '%s' after it", s, p);
		goto done;
	}
	if (yen) {
		*unit = kr_strdup("円");
	} else if (*p) {
		const char *best = NULL;
		for (size_t i = 0; i < sizeof(s_units) / sizeof(s_units[0]); i++)
			if (strcmp(p, s_units[i]) == 0)
				best = s_units[i];
		if (!best) {
			rc = kr_error(KR_EUSAGE, "'%s' is not a number: '%s' after it is not a unit kairan knows "
			    "(%%, 円, 時間, 人, 件, 回 ...)", s, p);
			goto done;
		}
		*unit = kr_strdup(best);
	} else {
		*unit = kr_strdup("");
	}
	/* "-0" and "+0" are 0; leading zeros are kept out of the integer part */
	{
		char *v = num.ptr + (num.ptr[0] == '-');
		size_t z = 0;
		while (v[z] == '0' && v[z + 1] >= '0' && v[z + 1] <= '9')
			z++;
		memmove(v, v + z, strlen(v + z) + 1);
		num.len = strlen(num.ptr);
		if (num.ptr[0] == '-' && strspn(num.ptr + 1, "0.") == strlen(num.ptr + 1))
			memmove(num.ptr, num.ptr + 1, num.len--);
	}
	*out = kr_buf_detach(&num);
done:
	kr_buf_release(&num);
	free(h);
	return rc;
}

static const struct {
	const char *name, *letter;
	int y, m, d;            /* first day of the era */
} s_eras[] = {
	{ "明治", "M", 1868, 1, 1 }, { "大正", "T", 1912, 7, 30 }, { "昭和", "S", 1926, 12, 25 },
	{ "平成", "H", 1989, 1, 8 }, { "令和", "R", 2019, 5, 1 },
};
#define NERAS (sizeof(s_eras) / sizeof(s_eras[0]))

static int
s_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : days[m - 1];
}

/* Reads 1-4 digits into *v; returns how many, 0 if none. */
static int
s_int(const char **pp, int max, int *v)
{
	int n = s_digits(*pp);

	if (n == 0 || n > max)
		return 0;
	*v = atoi(*pp);
	*pp += n;
	return n;
}

/* After the year: 年 (*sep stays 0) or one of - / . (*sep set); spaces before it allowed. */
static int
s_year_end(const char **pp, char *sep)
{
	const char *p = *pp;

	while (*p == ' ')
		p++;
	if (strncmp(p, "年", 3) == 0)
		p += 3;
	else if (*p == '.' || *p == '/' || *p == '-')
		*sep = *p++;
	else
		return 0;
	*pp = p;
	return 1;
}

/* Reads "M<sep>D" or "M月D日" after the year; sep is '-', '/' or '.' (0: 年月日). */
static int
s_month_day(const char **pp, char sep, int *m, int *d)
{
	const char *p = *pp;

	if (!s_int(&p, 2, m))
		return 0;
	if (sep) {
		if (*p++ != sep)
			return 0;
	} else {
		while (*p == ' ')
			p++;
		if (strncmp(p, "月", 3) != 0)
			return 0;
		p += 3;
		while (*p == ' ')
			p++;
	}
	if (!s_int(&p, 2, d))
		return 0;
	if (!sep) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "日", 3) != 0)
			return 0;
		p += 3;
	}
	*pp = p;
	return 1;
}

static const char *const s_wdays[] = { "日", "月", "火", "水", "木", "金", "土" };

/* Day of the week of a Gregorian date, 0 = Sunday (Sakamoto's method). */
static int
s_weekday(int y, int m, int d)
{
	static const int t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	if (m < 3)
		y--;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

/*
 * What spreadsheets put after a date: a day of the week, "(土)",
 * "(土曜日)" or "土曜日" (set in *wday, checked against the date by the
 * caller), and a time of day that must be midnight, " 0:00", " 00:00:00"
 * or "T00:00:00" (a date cell saved as date and time). Any other time is
 * refused: a date column holds a day, and dropping an hour would bend the
 * value. Advances *pp past what it read.
 */
static int
s_date_tail(const char *s, const char **pp, int *wday)
{
	const char *p = *pp;

	while (*p == ' ')
		p++;
	for (int i = 0; i < 7; i++) {
		const char *q = p + (*p == '(');
		if (strncmp(q, s_wdays[i], 3) != 0)
			continue;
		q += 3;
		if (strncmp(q, "曜日", 6) == 0)
			q += 6;
		else if (strncmp(q, "曜", 3) == 0)
			q += 3;
		else if (*p != '(')
			break;  /* a bare 土 is not a day of the week */
		if (*p == '(' && *q++ != ')')
			break;
		*wday = i;
		p = q;
		break;
	}
	while (*p == ' ')
		p++;
	if ((*p == 'T' || p > *pp) && p[*p == 'T'] >= '0' && p[*p == 'T'] <= '9') {
		const char *t = p + (*p == 'T');
		int hh = -1, mm = -1, ss = 0, n = s_digits(t);
		if (n >= 1 && n <= 2 && t[n] == ':' && s_digits(t + n + 1) == 2) {
			hh = atoi(t);
			mm = atoi(t + n + 1);
			t += n + 3;
			if (*t == ':' && s_digits(t + 1) == 2) {
				ss = atoi(t + 1);
				t += 3;
			}
			if (hh != 0 || mm != 0 || ss != 0)
				return kr_error(KR_EUSAGE, "'%s' has a time of day (%02d:%02d:%02d): this column takes a "
				    "date only; give the day alone (e.g. 2024/6/1)", s, hh, mm, ss);
			p = t;
		}
	}
	*pp = p;
	return 0;
}

int
kr_value_date(const char *s, char out[11])
{
	char *h = kr_value_halfwidth(s);
	const char *p = h;
	int y = 0, m = 0, d = 0, era = -1, eray = 0, rc = 0, wday = -1;
	char sep = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NERAS && era < 0; i++) {
		size_t nl = strlen(s_eras[i].name);
		if (strncmp(p, s_eras[i].name, nl) == 0) {
			era = (int)i;
			p += nl;
		} else if ((p[0] == s_eras[i].letter[0] || p[0] == s_eras[i].letter[0] + 32) &&
		    p[1] >= '0' && p[1] <= '9') {
			era = (int)i;
			p += 1;
		}
	}
	if (era >= 0) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "元", 3) == 0) {
			eray = 1;
			p += 3;
		} else if (!s_int(&p, 2, &eray) || eray == 0) {
			goto bad;
		}
		if (!s_year_end(&p, &sep))
			goto bad;
		y = s_eras[era].y + eray - 1;
	} else {
		int n = s_digits(p);
		if (n == 5 && !p[n] && atoi(p) > 0) {
			rc = kr_error(KR_EUSAGE, "'%s' looks like an Excel serial number, not a date "
			    "(format the column as a date, e.g. 2024/6/1, before saving as CSV)", s);
			goto done;
		}
		if (n == 2 && (p[2] == '/' || p[2] == '.' || p[2] == '-')) {
			rc = kr_error(KR_EUSAGE, "'%s' has a two-digit year: write the year in full "
			    "(2024/6/1) or with its era (R6.6.1)", s);
			goto done;
		}
		if (n != 4 || !s_int(&p, 4, &y))
			goto bad;
		if (!s_year_end(&p, &sep))
			goto bad;
	}
	while (!sep && *p == ' ')
		p++;
	if (!s_month_day(&p, sep, &m, &d))
		goto bad;
	if ((rc = s_date_tail(s, &p, &wday)) < 0)
		goto done;
	if (*p)
		goto bad;
	if (m < 1 || m > 12) {
		rc = kr_error(KR_EUSAGE, "'%s' is not a day of the calendar (there is no month %d)", s, m);
		goto done;
	}
	if (d < 1 || d > s_days(y, m)) {
		rc = kr_error(KR_EUSAGE, "'%s' is not a day of the calendar (%04d-%02d has %d days)", s, y, m,
		    s_days(y, m));
		goto done;
	}
	if (y < 1868) {
		rc = kr_error(KR_EUSAGE, "'%s' is before 1868 (明治): not a date kairan records", s);
		goto done;
	}
	if (era >= 0) {
		long v = (long)y * 10000 + m * 100 + d;
		long from = (long)s_eras[era].y * 10000 + s_eras[era].m * 100 + s_eras[era].d;
		long to = era + 1 < (int)NERAS ? (long)s_eras[era + 1].y * 10000 + s_eras[era + 1].m * 100 +
		    s_eras[era + 1].d : 99999999L;
		if (v < from || v >= to) {
			rc = kr_error(KR_EUSAGE, "'%s' is not a day of %s (%s runs from %04d-%02d-%02d%s)", s,
			    s_eras[era].name, s_eras[era].name, s_eras[era].y, s_eras[era].m, s_eras[era].d,
			    era + 1 < (int)NERAS ? (v >= to ? "; that day is in the next era" : "") : "");
			goto done;
		}
	}
	if (wday >= 0 && s_weekday(y, m, d) != wday) {
		rc = kr_error(KR_EUSAGE, "'%s': %04d-%02d-%02d is a %s曜日, not %s曜日 (check the date)", s, y, m, d,
		    s_wdays[s_weekday(y, m, d)], s_wdays[wday]);
		goto done;
	}
	snprintf(out, 11, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
	goto done;
bad:
	rc = kr_error(KR_EUSAGE, "'%s' is not a date kairan can read exactly (write 2024-06-01, "
	    "2024/6/1, 2024年6月1日, 令和6年6月1日 or R6.6.1)", s);
done:
	free(h);
	return rc;
}

int
kr_value_pref(const char *s, char out[3])
{
	char *h = kr_value_halfwidth(s);
	int rc = 0, n = s_digits(h), best = 0;
	size_t bestlen = 0;

	out[0] = '\0';
	if (n > 0 && n <= 2 && !h[n]) {
		int v = atoi(h);
		if (v >= 1 && v <= 47) {
			snprintf(out, 3, "%02u", (unsigned)v % 100u);
			goto done;
		}
		rc = kr_error(KR_EUSAGE, "prefecture '%s' is not a number from 01 (北海道) to 47 (沖縄県)", s);
		goto done;
	}
	for (int v = 1; v <= 47; v++) {
		char code[3];
		const char *name;
		size_t l;
		snprintf(code, sizeof(code), "%02u", (unsigned)v % 100u);
		name = kr_pref_name(code);
		l = strlen(name);
		/* the full name, or the name without its last character when that is 都, 府 or 県 */
		if (strcmp(h, name) == 0 || (l > 3 && (strcmp(name + l - 3, "県") == 0 || strcmp(name + l - 3, "府") == 0 ||
		    strcmp(name + l - 3, "都") == 0) && strlen(h) == l - 3 && strncmp(h, name, l - 3) == 0)) {
			memcpy(out, code, 3);
			goto done;
		}
		/* a slip: the name sharing the longest start with what was typed */
		{
			size_t k = 0;
			while (k < l && h[k] && h[k] == name[k])
				k++;
			k -= k % 3;
			if (k >= 3 && k > bestlen) {
				bestlen = k;
				best = v;
			}
		}
	}
	if (best) {
		char code[3];
		snprintf(code, sizeof(code), "%02u", (unsigned)best % 100u);
		rc = kr_error(KR_EUSAGE, "prefecture '%s' is not known: did you mean %s (%s)? "
		    "(give the number 01-47 or the name, e.g. 37, 香川県 or 香川)", s, kr_pref_name(code), code);
	} else {
		rc = kr_error(KR_EUSAGE, "prefecture '%s' is not known (give the number 01-47 or the name, "
		    "e.g. 37, 香川県 or 香川)", s);
	}
done:
	free(h);
	return rc;
}
