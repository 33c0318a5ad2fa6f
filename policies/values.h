/*
 * policies/values.h - numbers and dates as Japanese offices write them
 *
 * One reader for every place a person types a number or a date (import
 * cells, search --since): thousands separators, full-width forms, a unit
 * after the number, 西暦 with - / . or 年月日, 和暦 (令和6年6月1日, 令和元年,
 * R6.6.1). A value is read exactly or refused with the reason: never a
 * guess (no two-digit years, no Excel serial numbers, no decimal commas).
 * No I/O, no state: safe from any thread.
 */
#ifndef KR_VALUES_H
#define KR_VALUES_H

#include "../sharing/common.h"

/*
 * Reads a number such as "62,000", "６２，０００人", "35%", "1,200時間",
 * "94.1", "▲3" (a minus), "¥1,000" (¥, ￥ or CP932's backslash: unit 円).
 * *out receives it in plain form ("62000", "35", "-3"; caller frees),
 * *unit the unit written after it ("%", "円", "時間", "人", ...; "" when
 * none; caller frees). KR_EUSAGE says what is wrong
 * (misplaced separator, unknown unit, no digits); *out and *unit are then
 * NULL.
 */
int kr_value_number(const char *s, char **out, char **unit);

/*
 * Reads a date: 2024-06-01, 2024/6/1, 2024.6.1, 2024年6月1日,
 * 令和6年6月1日, 令和元年5月1日, R6.6.1, H30/4/1 (eras M T S H R, upper or
 * lower case), with full-width digits and separators, optionally followed
 * by a day of the week that must match ("(土)", "土曜日") and a time that
 * must be midnight ("0:00", "T00:00:00": a date cell saved with its
 * time). out receives YYYY-MM-DD. KR_EUSAGE says why a value is not a date (no such day, a
 * date outside its era, a two-digit year, an Excel serial number).
 */
int kr_value_date(const char *s, char out[11]);

/*
 * Reads a prefecture: its JIS X 0401 number (37, 7, ３７) or its name
 * with or without 都/府/県 (香川県, 香川; 北海道). out receives the two
 * digits ("37"). KR_EUSAGE names the nearest prefecture when it can.
 */
int kr_value_pref(const char *s, char out[3]);

/*
 * The text with full-width ASCII (Ａ-Ｚ, ０-９, ％, ．, ，, －, ／ ...)
 * and the ideographic space turned into ASCII, and U+2212 MINUS SIGN
 * into '-'; spaces at both ends removed. Caller frees.
 */
char *kr_value_halfwidth(const char *s);

#endif
