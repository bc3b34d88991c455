/*
 * msg.c - how the configuration's error lines read
 * (config_internal.h): values quoted and escaped (errline.c writes the
 * line), sizes as a person writes them, and "did you mean" for unknown names.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

/* ---- messages ---------------------------------------------------------- */

const char *cw__cfg_quote(char *buf, size_t len, const char *s)
{
	size_t o = 0;
	buf[o++] = '"';
	for (size_t i = 0; s[i] != '\0' && o + 8 < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (i == 48) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *cw__cfg_fmt_size(char *buf, size_t len, long long v)
{
	if (v != 0 && v % GIB == 0)
		snprintf(buf, len, "%lldGiB", v / GIB);
	else if (v != 0 && v % MIB == 0)
		snprintf(buf, len, "%lldMiB", v / MIB);
	else if (v != 0 && v % KIB == 0)
		snprintf(buf, len, "%lldKiB", v / KIB);
	else
		snprintf(buf, len, "%lld", v);
	return buf;
}

/* ---- "did you mean" ---------------------------------------------------- */

/* Levenshtein distance, case-insensitive; SIZE_MAX for long strings. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) !=
			              tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Close enough to suggest: a typo or two, never a different short word. */
static bool is_close(size_t d, const char *candidate)
{
	size_t len = strlen(candidate);
	size_t limit = len <= 4 ? 1 : len <= 10 ? 2 : 3;
	return d <= limit && d < len;
}

void cw__cfg_suggest(struct suggestion *s, const char *typed,
    const char *candidate, const char *shown, size_t penalty)
{
	size_t d = edit_distance(typed, candidate), score;
	size_t lt = strlen(typed), lc = strlen(candidate);
	if (d != SIZE_MAX && is_close(d, candidate))
		score = d * 2 + penalty;
	else if (lt >= 3 && lt < lc && strncasecmp(typed, candidate, lt) == 0)
		score = 100 + (lc - lt) * 2 + penalty;
	else
		return;
	if (s->text[0] == '\0' || score < s->score) {
		snprintf(s->text, sizeof s->text, "%s", shown);
		s->score = score;
	}
}

const char *cw__cfg_did_you_mean(
    char *buf, size_t len, const struct suggestion *s)
{
	if (s->text[0] == '\0')
		return "";
	snprintf(buf, len, " (did you mean %s?)", s->text);
	return buf;
}
