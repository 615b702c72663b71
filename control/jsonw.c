/*
 * control/jsonw.c: the JSON writer (jsonw.h).
 */
#include "control/jsonw.h"

#include <string.h>

void jw_escape(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_string(FILE *f, const char *s)
{
	jw_escape(f, s, strlen(s));
}

/* The comma before a member or element, and its key. */
static unsigned slot(const struct jw *w);

static void lead(struct jw *w, const char *key)
{
	unsigned d = slot(w);

	if (w->more[d])
		fputc(',', w->f);
	w->more[d] = true;
	if (key) {
		put_string(w->f, key);
		fputc(':', w->f);
	}
}

void jw_init(struct jw *w, FILE *f)
{
	*w = (struct jw){ .f = f };
}

static unsigned slot(const struct jw *w)
{
	return w->depth < JW_DEPTH_MAX ? w->depth : JW_DEPTH_MAX;
}

/* Levels past JW_DEPTH_MAX share its slot: each starts empty, and the one
 * it ends in holds an element (the one that ended), so the commas stay
 * right at any depth. */
static void begin(struct jw *w, const char *key, char c)
{
	lead(w, key);
	fputc(c, w->f);
	w->depth++;
	w->more[slot(w)] = false;
}

void jw_object(struct jw *w, const char *key)
{
	begin(w, key, '{');
}

void jw_array(struct jw *w, const char *key)
{
	begin(w, key, '[');
}

void jw_end(struct jw *w, char c)
{
	fputc(c, w->f);
	if (w->depth)
		w->depth--;
	if (!w->depth) {
		fputc('\n', w->f);
		w->more[0] = false; /* the next document: no comma */
	} else {
		w->more[slot(w)] = true;
	}
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	lead(w, key);
	put_string(w->f, s);
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	lead(w, key);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_i64(struct jw *w, const char *key, int64_t v)
{
	lead(w, key);
	fprintf(w->f, "%lld", (long long)v);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	lead(w, key);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	lead(w, key);
	fputs("null", w->f);
}
