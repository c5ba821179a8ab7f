/*
 * fuzz_expand - libFuzzer target: the $expansion language on its own.
 *
 * The input is the text to expand; names resolve through a small fixed
 * table whose values themselves contain expansions (the lookup recurses
 * with a depth limit, as the configuration's loop check does).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/expand.h"
#include "lib/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	int depth;
	struct buf tmp[8];
};

static const char *const table[][2] = {
	{ "a", "x" },
	{ "b", "${a?{yes}:{no}}" },
	{ "c", "" },
	{ "compatibility_level", "3.6" },
	{ "n", "12" },
	{ "loop", "$loop" },
};

/* lookup - fixed table, values expanded recursively up to a depth */
static const char *lookup(void *vctx, const char *name, struct buf *err)
{
	struct ctx *ctx = vctx;
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct buf *b;
		int rc;

		if (strcmp(table[i][0], name) != 0)
			continue;
		if (ctx->depth >= 7) {
			buf_puts(err, "too deep");
			return NULL;
		}
		b = &ctx->tmp[ctx->depth++];
		buf_reset(b);
		rc = expand_text(table[i][1], lookup, ctx, b, err);
		ctx->depth--;
		return rc < 0 ? NULL : buf_cstr(b);
	}
	return "";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx ctx;
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct strv refs = STRV_INIT;
	char *text = xstrndup((const char *)data, size);
	size_t i;

	memset(&ctx, 0, sizeof(ctx));
	expand_text(text, lookup, &ctx, &out, &err);
	expand_refs(text, &refs);
	for (i = 0; i < 8; i++)
		buf_free(&ctx.tmp[i]);
	strv_free(&refs);
	buf_free(&out);
	buf_free(&err);
	free(text);
	return 0;
}
