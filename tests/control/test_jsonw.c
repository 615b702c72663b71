/*
 * tests/control/test_jsonw.c: the table views' JSON writer: commas between
 * members and elements at every depth, escapes, numbers, null, and nesting
 * past JW_DEPTH_MAX written without going out of bounds.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "control/jsonw.h"

/* What body wrote through a writer on a memory stream. */
#define WRITTEN(out, body)                                              \
	do {                                                            \
		char *buf_ = NULL;                                      \
		size_t len_ = 0;                                        \
		FILE *f_ = open_memstream(&buf_, &len_);                \
		struct jw w_;                                           \
		cr_assert_not_null(f_);                                 \
		jw_init(&w_, f_);                                       \
		struct jw *w = &w_;                                     \
		body;                                                   \
		fclose(f_);                                             \
		snprintf(out, sizeof(out), "%s", buf_);                 \
		free(buf_);                                             \
	} while (0)

Test(jsonw, members_and_elements)
{
	char out[512];

	WRITTEN(out, {
		jw_object(w, NULL);
		jw_str(w, "a", "x");
		jw_u64(w, "n", 18446744073709551615ull);
		jw_i64(w, "m", -5);
		jw_bool(w, "t", true);
		jw_null(w, "z");
		jw_array(w, "l");
		jw_u64(w, NULL, 1);
		jw_object(w, NULL);
		jw_end(w, '}');
		jw_array(w, NULL);
		jw_end(w, ']');
		jw_str(w, NULL, "y");
		jw_end(w, ']');
		jw_array(w, "e");
		jw_end(w, ']');
		jw_end(w, '}');
	});
	cr_assert_str_eq(out, "{\"a\":\"x\",\"n\":18446744073709551615,\"m\":-5,\"t\":true,"
			      "\"z\":null,\"l\":[1,{},[],\"y\"],\"e\":[]}\n");
}

Test(jsonw, escapes)
{
	char out[256];

	WRITTEN(out, {
		jw_object(w, NULL);
		jw_str(w, "k\"", "a\"b\\c\n\t\x01\x7f\xc3\xa9 d");
		jw_end(w, '}');
	});
	cr_assert_str_eq(out, "{\"k\\\"\":\"a\\\"b\\\\c\\u000a\\u0009\\u0001\\u007f\xc3\xa9 d\"}\n");
}

Test(jsonw, two_documents)
{
	char out[64];

	WRITTEN(out, {
		jw_object(w, NULL);
		jw_u64(w, "a", 1);
		jw_end(w, '}');
		jw_object(w, NULL);
		jw_u64(w, "b", 2);
		jw_end(w, '}');
	});
	cr_assert_str_eq(out, "{\"a\":1}\n{\"b\":2}\n");
}

Test(jsonw, deeper_than_the_stack)
{
	char out[256], want[256] = "";
	unsigned n = JW_DEPTH_MAX + 4;

	WRITTEN(out, {
		for (unsigned i = 0; i < n; i++)
			jw_array(w, NULL);
		jw_u64(w, NULL, 1);
		jw_u64(w, NULL, 2);
		for (unsigned i = 0; i < n; i++)
			jw_end(w, ']');
	});
	/* whatever the commas inside, the brackets balance and the last
	 * level's elements are apart */
	for (unsigned i = 0; i < n; i++)
		strcat(want, "[");
	strcat(want, "1,2");
	for (unsigned i = 0; i < n; i++)
		strcat(want, "]");
	strcat(want, "\n");
	cr_assert_str_eq(out, want);
}
