/*
 * Flattening Lua values into bytes and back. The layout is a 4-byte count
 * of values, then each value as a tag byte and its payload:
 *
 *	nil, false, true	the tag alone
 *	integer, float		8 bytes, lua_Integer or lua_Number as is
 *	short string		1 byte length, the bytes
 *	string			8 byte length, the bytes
 *	table			8 byte pair count, 8 byte array size hint,
 *				then each pair as a key and a value
 *
 * Packing only reads its state; unpacking runs in a protected call so that
 * a malformed buffer or a state out of memory is an error, not a panic.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/value.h"
#include "base/xmalloc.h"

enum value_tag {
	VALUE_NIL,
	VALUE_FALSE,
	VALUE_TRUE,
	VALUE_INTEGER,
	VALUE_FLOAT,
	VALUE_SHORT_STRING,
	VALUE_STRING,
	VALUE_TABLE,
};

/*
 * The state of one value_pack: where it writes, the argument it is on (for
 * messages), and the tables being packed from the outermost in, to catch a
 * table inside itself. Lives on value_pack's stack.
 */
struct value_packer {
	lua_State		*L;
	struct value_buf	*out;
	size_t			 max;
	int			 arg;
	const void		*path[VALUE_MAX_DEPTH];
	int			 depth;
	char			*err;
	size_t			 errlen;
};

/*
 * The state of one value_unpack: the bytes not read yet and how deep in
 * tables the reader is. Lives on value_unpack's stack.
 */
struct value_reader {
	const char	*p;
	const char	*end;
	int		 depth;
};

static int	value_pack_value(struct value_packer *, int, int);

/* Sets an empty buffer with the default cap. */
void
value_buf_init(struct value_buf *buf)
{
	memset(buf, 0, sizeof *buf);
}

/* Empties a buffer, keeping its memory and cap. */
void
value_buf_clear(struct value_buf *buf)
{
	buf->len = 0;
}

/* Frees a buffer's memory; it is empty and usable again after. */
void
value_buf_free(struct value_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->size = 0;
}

/* Formats "argument N: ..." into the caller's error buffer. Returns -1. */
static int
value_fail(struct value_packer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int
value_fail(struct value_packer *p, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (p->err == NULL || p->errlen == 0)
		return (-1);
	n = snprintf(p->err, p->errlen, "argument %d: ", p->arg);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* Appends bytes, growing the buffer. Returns -1 past the cap. */
static int
value_put(struct value_packer *p, const void *data, size_t len)
{
	struct value_buf	*out = p->out;
	size_t			 want;

	if (out->len > p->max || len > p->max - out->len)
		return (value_fail(p, "more than %zu bytes to copy", p->max));
	if (out->len + len > out->size) {
		want = out->size < 256 ? 256 : out->size;
		while (want < out->len + len)
			want = want > p->max / 2 ? p->max : want * 2;
		out->data = xrealloc(out->data, want);
		out->size = want;
	}
	memcpy(out->data + out->len, data, len);
	out->len += len;
	return (0);
}

/* Appends a tag byte. */
static int
value_put_tag(struct value_packer *p, enum value_tag tag)
{
	unsigned char	c = tag;

	return (value_put(p, &c, 1));
}

/* Appends a string: a short or long length, then its bytes. */
static int
value_put_string(struct value_packer *p, int idx)
{
	const char	*s;
	size_t		 len;
	unsigned char	 len8;
	uint64_t	 len64;

	s = lua_tolstring(p->L, idx, &len);
	if (len <= UCHAR_MAX) {
		len8 = (unsigned char)len;
		if (value_put_tag(p, VALUE_SHORT_STRING) != 0 ||
		    value_put(p, &len8, 1) != 0)
			return (-1);
	} else {
		len64 = len;
		if (value_put_tag(p, VALUE_STRING) != 0 ||
		    value_put(p, &len64, sizeof len64) != 0)
			return (-1);
	}
	return (value_put(p, s, len));
}

/* Appends a number, keeping an integer an integer. */
static int
value_put_number(struct value_packer *p, int idx)
{
	lua_Integer	i;
	lua_Number	d;

	if (lua_isinteger(p->L, idx)) {
		i = lua_tointeger(p->L, idx);
		if (value_put_tag(p, VALUE_INTEGER) != 0)
			return (-1);
		return (value_put(p, &i, sizeof i));
	}
	d = lua_tonumber(p->L, idx);
	if (value_put_tag(p, VALUE_FLOAT) != 0)
		return (-1);
	return (value_put(p, &d, sizeof d));
}

/* Writes a table key, readably and briefly, for an error message. */
static void
value_key_name(lua_State *L, int idx, char *name, size_t len)
{
	const char	*s;
	size_t		 slen, i, o = 0;

	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &slen);
		name[o++] = '"';
		for (i = 0; i < slen && i < 32 && o + 5 < len; i++)
			name[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		if (i < slen)
			o += snprintf(name + o, len - o, "...");
		snprintf(name + o, len - o, "\"");
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			snprintf(name, len, LUA_INTEGER_FMT,
			    (LUAI_UACINT)lua_tointeger(L, idx));
		else
			snprintf(name, len, "%.14g", lua_tonumber(L, idx));
		break;
	case LUA_TBOOLEAN:
		snprintf(name, len, "%s", lua_toboolean(L, idx) ? "true" :
		    "false");
		break;
	default:
		snprintf(name, len, "a %s", luaL_typename(L, idx));
		break;
	}
}

/* Packs a table key: a boolean, a number or a string. */
static int
value_pack_key(struct value_packer *p, int idx)
{
	switch (lua_type(p->L, idx)) {
	case LUA_TBOOLEAN:
	case LUA_TNUMBER:
	case LUA_TSTRING:
		return (value_pack_value(p, idx, 0));
	}
	return (value_fail(p, "cannot copy a %s as a table key",
	    luaL_typename(p->L, idx)));
}

/*
 * Packs a table's pairs after its header, then fills in the pair count
 * and the array hint. The table is at idx (absolute); pushes and pops a
 * key and a value per pair.
 */
static int
value_pack_pairs(struct value_packer *p, int idx, size_t at)
{
	lua_State	*L = p->L;
	uint64_t	 pairs = 0, hint;
	int		 key;

	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		key = lua_gettop(L) - 1;
		if (value_pack_key(p, key) != 0 ||
		    value_pack_value(p, key + 1, key) != 0) {
			lua_pop(L, 2);
			return (-1);
		}
		lua_pop(L, 1);
		pairs++;
	}
	hint = lua_rawlen(L, idx);
	if (hint > pairs)
		hint = pairs;
	memcpy(p->out->data + at, &pairs, sizeof pairs);
	memcpy(p->out->data + at + sizeof pairs, &hint, sizeof hint);
	return (0);
}

/* Packs the table at idx (absolute), unless it is inside itself. */
static int
value_pack_table(struct value_packer *p, int idx)
{
	const void	*self = lua_topointer(p->L, idx);
	uint64_t	 zero[2] = { 0, 0 };
	size_t		 at;
	int		 i, error;

	for (i = 0; i < p->depth; i++) {
		if (p->path[i] == self)
			return (value_fail(p,
			    "cannot copy a table that contains itself"));
	}
	if (p->depth == VALUE_MAX_DEPTH)
		return (value_fail(p, "tables nested deeper than %d levels",
		    VALUE_MAX_DEPTH));
	if (!lua_checkstack(p->L, 3))
		return (value_fail(p, "Lua stack overflow"));
	if (value_put_tag(p, VALUE_TABLE) != 0)
		return (-1);
	at = p->out->len;
	if (value_put(p, zero, sizeof zero) != 0)
		return (-1);
	p->path[p->depth++] = self;
	error = value_pack_pairs(p, idx, at);
	p->depth--;
	return (error);
}

/*
 * Packs the value at idx (absolute). key is the index of its key when it
 * is a table's value, else 0; it only makes error messages precise.
 */
static int
value_pack_value(struct value_packer *p, int idx, int key)
{
	char	name[64];
	int	type = lua_type(p->L, idx);

	switch (type) {
	case LUA_TNIL:
		return (value_put_tag(p, VALUE_NIL));
	case LUA_TBOOLEAN:
		return (value_put_tag(p, lua_toboolean(p->L, idx) ?
		    VALUE_TRUE : VALUE_FALSE));
	case LUA_TNUMBER:
		return (value_put_number(p, idx));
	case LUA_TSTRING:
		return (value_put_string(p, idx));
	case LUA_TTABLE:
		return (value_pack_table(p, idx));
	case LUA_TNONE:
		return (value_fail(p, "no such value"));
	}
	if (key == 0)
		return (value_fail(p, "cannot copy a %s",
		    lua_typename(p->L, type)));
	value_key_name(p->L, key, name, sizeof name);
	return (value_fail(p, "cannot copy a %s (at key %s)",
	    lua_typename(p->L, type), name));
}

/*
 * Appends n values from index first on L's stack to out, leaving the
 * stack as it was. Returns 0, or -1 with a message in err ("argument N:
 * ...", N the value's stack index, so that in a C function it is the Lua
 * argument number) and out as it was.
 */
int
value_pack(lua_State *L, int first, int n, struct value_buf *out, char *err,
    size_t errlen)
{
	struct value_packer	p;
	uint32_t		count = n;
	size_t			start = out->len;
	int			top = lua_gettop(L), i;

	memset(&p, 0, sizeof p);
	p.L = L;
	p.out = out;
	p.max = out->max != 0 ? out->max : VALUE_MAX_BYTES;
	p.err = err;
	p.errlen = errlen;
	first = lua_absindex(L, first);
	p.arg = first;
	if (n < 0)
		return (value_fail(&p, "cannot copy %d values", n));
	if (value_put(&p, &count, sizeof count) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		p.arg = first + i;
		if (value_pack_value(&p, first + i, 0) != 0)
			goto fail;
	}
	return (0);

fail:
	lua_settop(L, top);
	out->len = start;
	return (-1);
}

/* Raises the error for a malformed buffer. */
static int
value_malformed(lua_State *L, const char *why)
{
	return (luaL_error(L, "malformed value buffer: %s", why));
}

/* Reads len bytes into data, or raises if the buffer is short. */
static void
value_read(lua_State *L, struct value_reader *r, void *data, size_t len)
{
	if ((size_t)(r->end - r->p) < len)
		value_malformed(L, "truncated");
	memcpy(data, r->p, len);
	r->p += len;
}

/* Pushes a string of len bytes from the buffer. */
static void
value_read_string(lua_State *L, struct value_reader *r, size_t len)
{
	if ((size_t)(r->end - r->p) < len)
		value_malformed(L, "truncated string");
	lua_pushlstring(L, r->p, len);
	r->p += len;
}

/* Returns a size hint cut to what lua_createtable takes. */
static int
value_hint(uint64_t n)
{
	return (n > INT_MAX ? INT_MAX : (int)n);
}

static void	value_read_value(lua_State *, struct value_reader *, int);

/* Pushes a table read from the buffer, after its tag. */
static void
value_read_table(lua_State *L, struct value_reader *r)
{
	uint64_t	pairs, hint, i;

	if (++r->depth > VALUE_MAX_DEPTH)
		value_malformed(L, "tables nested too deep");
	luaL_checkstack(L, 3, "unpacking a table");
	value_read(L, r, &pairs, sizeof pairs);
	value_read(L, r, &hint, sizeof hint);
	if (pairs > (uint64_t)(r->end - r->p) / 2 || hint > pairs)
		value_malformed(L, "bad table size");
	lua_createtable(L, value_hint(hint), value_hint(pairs - hint));
	for (i = 0; i < pairs; i++) {
		value_read_value(L, r, 1);
		value_read_value(L, r, 0);
		lua_rawset(L, -3);
	}
	r->depth--;
}

/* Pushes a number read from the buffer, after its tag. */
static void
value_read_number(lua_State *L, struct value_reader *r, int tag, int is_key)
{
	lua_Integer	i;
	lua_Number	d;

	if (tag == VALUE_INTEGER) {
		value_read(L, r, &i, sizeof i);
		lua_pushinteger(L, i);
		return;
	}
	value_read(L, r, &d, sizeof d);
	if (is_key && d != d)
		value_malformed(L, "NaN as a table key");
	lua_pushnumber(L, d);
}

/* Pushes one value read from the buffer; a key may not be nil or a table. */
static void
value_read_value(lua_State *L, struct value_reader *r, int is_key)
{
	unsigned char	tag, len8;
	uint64_t	len64;

	value_read(L, r, &tag, 1);
	if (is_key && (tag == VALUE_NIL || tag == VALUE_TABLE))
		value_malformed(L, "bad table key");
	switch (tag) {
	case VALUE_NIL:
	case VALUE_FALSE:
	case VALUE_TRUE:
		if (tag == VALUE_NIL)
			lua_pushnil(L);
		else
			lua_pushboolean(L, tag == VALUE_TRUE);
		break;
	case VALUE_INTEGER:
	case VALUE_FLOAT:
		value_read_number(L, r, tag, is_key);
		break;
	case VALUE_SHORT_STRING:
		value_read(L, r, &len8, 1);
		value_read_string(L, r, len8);
		break;
	case VALUE_STRING:
		value_read(L, r, &len64, sizeof len64);
		value_read_string(L, r, len64 > SIZE_MAX ? SIZE_MAX : len64);
		break;
	case VALUE_TABLE:
		value_read_table(L, r);
		break;
	default:
		value_malformed(L, "unknown tag");
	}
}

/*
 * The protected part of value_unpack: the reader is a light userdata at
 * index 1. Returns the values it pushed, or raises.
 */
static int
value_unpack_protected(lua_State *L)
{
	struct value_reader	*r = lua_touserdata(L, 1);
	uint32_t		 n, i;

	lua_pop(L, 1);
	value_read(L, r, &n, sizeof n);
	if (n > (size_t)(r->end - r->p))
		value_malformed(L, "bad value count");
	if (n > INT_MAX - 8)
		value_malformed(L, "too many values");
	luaL_checkstack(L, (int)n, "too many values");
	for (i = 0; i < n; i++)
		value_read_value(L, r, 0);
	if (r->p != r->end)
		value_malformed(L, "trailing bytes");
	return ((int)n);
}

/*
 * Returns the thread to run the protected call in: L itself, or, if L is
 * a suspended coroutine (which cannot call), its main thread.
 */
static lua_State *
value_caller(lua_State *L)
{
	lua_State	*main;

	if (lua_status(L) == LUA_OK)
		return (L);
	if (!lua_checkstack(L, 1))
		return (NULL);
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	main = lua_tothread(L, -1);
	lua_pop(L, 1);
	return (main);
}

/* Copies a message into a caller's error buffer, if there is one. */
static void
value_set_error(char *err, size_t errlen, const char *msg)
{
	if (msg == NULL)
		msg = "error object is not a string";
	if (err != NULL && errlen != 0)
		snprintf(err, errlen, "%s", msg);
}

/*
 * Pushes the values packed in buf on L's stack; L may be a suspended
 * coroutine about to be resumed with them. Returns how many, or -1 with a
 * message in err and the stack as it was, if buf is malformed or L is out
 * of memory or stack.
 */
int
value_unpack(lua_State *L, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct value_reader	 r = { buf, buf + len, 0 };
	lua_State		*T;
	int			 top, n;

	if ((T = value_caller(L)) == NULL || !lua_checkstack(T, 2)) {
		value_set_error(err, errlen, "Lua stack overflow");
		return (-1);
	}
	top = lua_gettop(T);
	lua_pushcfunction(T, value_unpack_protected);
	lua_pushlightuserdata(T, &r);
	if (lua_pcall(T, 1, LUA_MULTRET, 0) != LUA_OK) {
		value_set_error(err, errlen, lua_tostring(T, -1));
		lua_settop(T, top);
		return (-1);
	}
	n = lua_gettop(T) - top;
	if (T != L) {
		if (!lua_checkstack(L, n)) {
			lua_settop(T, top);
			value_set_error(err, errlen, "Lua stack overflow");
			return (-1);
		}
		lua_xmove(T, L, n);
	}
	return (n);
}
