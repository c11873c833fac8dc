/*
 * Fuzzes value flattening between Lua states.
 *
 * Raw mode: the input's bytes are unpacked as a value buffer, into a
 * state or into a suspended coroutine. A malformed buffer must fail
 * cleanly (the stack as it was); a buffer that unpacks must pack again
 * and unpack in a second state to equal values.
 *
 * Build mode: the input is a small stack program that builds values
 * (numbers of any bits, strings of any bytes, tables, tables inside
 * themselves, functions) which are packed after some bytes already in the
 * buffer, under a cap the input chooses. A pack that fails leaves the
 * buffer and the stack as they were; one that succeeds unpacks in the
 * second state to equal values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "base/xmalloc.h"
#include "lua/value.h"
#include "fuzz.h"

#define VALUE_FUZZ_MEMORY	(64 << 20)	/* bytes per state */
#define VALUE_FUZZ_STACK	64		/* values the program makes */
#define VALUE_FUZZ_CAP		(1 << 20)	/* most bytes packed */

/* A state's allocation count, for its cap. */
struct value_fuzz_heap {
	size_t	used;
};

static lua_State		*value_fuzz_L, *value_fuzz_L2;
static struct value_fuzz_heap	 value_fuzz_heaps[2];

/* An allocator with a cap, so that a huge table is an error, not OOM. */
static void *
value_fuzz_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct value_fuzz_heap	*h = ud;
	void			*p;

	if (ptr == NULL)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		h->used -= osize;
		return (NULL);
	}
	if (nsize > osize && h->used + (nsize - osize) > VALUE_FUZZ_MEMORY)
		return (NULL);
	if ((p = realloc(ptr, nsize)) != NULL)
		h->used += nsize - osize;
	return (p);
}

static int	value_fuzz_equal(lua_State *, int, lua_State *, int, int);

/* Pushes a copy of a key (a boolean, number or string) of A onto B. */
static void
value_fuzz_copy_key(lua_State *A, int i, lua_State *B)
{
	size_t		 len;
	const char	*s;

	switch (lua_type(A, i)) {
	case LUA_TBOOLEAN:
		lua_pushboolean(B, lua_toboolean(A, i));
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(A, i))
			lua_pushinteger(B, lua_tointeger(A, i));
		else
			lua_pushnumber(B, lua_tonumber(A, i));
		break;
	case LUA_TSTRING:
		s = lua_tolstring(A, i, &len);
		lua_pushlstring(B, s, len);
		break;
	default:
		FUZZ_CHECK(!"a table key that is not copied");
	}
}

/* Returns 1 if two tables have the same pairs. */
static int
value_fuzz_equal_tables(lua_State *A, int a, lua_State *B, int b, int depth)
{
	size_t	na = 0, nb = 0;
	int	same = 1;

	FUZZ_CHECK(lua_checkstack(A, 4) && lua_checkstack(B, 4));
	lua_pushnil(A);
	while (same && lua_next(A, a) != 0) {
		na++;
		value_fuzz_copy_key(A, -2, B);
		lua_rawget(B, b);
		same = value_fuzz_equal(A, lua_gettop(A), B, lua_gettop(B),
		    depth + 1);
		lua_pop(B, 1);
		lua_pop(A, 1);
	}
	if (!same) {
		lua_pop(A, 1);
		return (0);
	}
	lua_pushnil(B);
	while (lua_next(B, b) != 0) {
		nb++;
		lua_pop(B, 1);
	}
	return (na == nb);
}

/* Returns 1 if two values of two states are equal, NaN and -0 kept. */
static int
value_fuzz_equal(lua_State *A, int a, lua_State *B, int b, int depth)
{
	const char	*sa, *sb;
	size_t		 la, lb;
	lua_Number	 da, db;

	FUZZ_CHECK(depth <= VALUE_MAX_DEPTH + 1);
	if (lua_type(A, a) != lua_type(B, b))
		return (0);
	switch (lua_type(A, a)) {
	case LUA_TNIL:
		return (1);
	case LUA_TBOOLEAN:
		return (lua_toboolean(A, a) == lua_toboolean(B, b));
	case LUA_TNUMBER:
		if (lua_isinteger(A, a) != lua_isinteger(B, b))
			return (0);
		if (lua_isinteger(A, a))
			return (lua_tointeger(A, a) == lua_tointeger(B, b));
		da = lua_tonumber(A, a);
		db = lua_tonumber(B, b);
		return (memcmp(&da, &db, sizeof da) == 0);
	case LUA_TSTRING:
		sa = lua_tolstring(A, a, &la);
		sb = lua_tolstring(B, b, &lb);
		return (la == lb && memcmp(sa, sb, la) == 0);
	case LUA_TTABLE:
		return (value_fuzz_equal_tables(A, a, B, b, depth));
	}
	FUZZ_CHECK(!"a value of a type that is not copied");
	return (0);
}

/*
 * Unpacks buf in the second state and checks the values equal the n
 * values from first on L.
 */
static void
value_fuzz_check_copy(lua_State *L, int first, int n, const char *buf,
    size_t len)
{
	lua_State	*L2 = value_fuzz_L2;
	char		 err[256];
	int		 top2 = lua_gettop(L2), got, i;

	got = value_unpack(L2, buf, len, err, sizeof err);
	if (got == -1) {
		/* Only running out of the second state's memory may fail. */
		FUZZ_CHECK(strstr(err, "memory") != NULL);
		FUZZ_CHECK(lua_gettop(L2) == top2);
		return;
	}
	FUZZ_CHECK(got == n && lua_gettop(L2) == top2 + n);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(value_fuzz_equal(L, first + i, L2, top2 + 1 + i,
		    0));
	lua_settop(L2, top2);
}

/* A C function that yields at once: makes a suspended coroutine. */
static int
value_fuzz_yield(lua_State *L)
{
	return (lua_yield(L, 0));
}

/* Raw mode: the bytes as a value buffer. */
static void
value_fuzz_raw(const uint8_t *data, size_t size, int in_coroutine)
{
	lua_State		*L = value_fuzz_L, *T = L;
	struct value_buf	 buf;
	char			 err[256];
	int			 top, n, nres;

	if (in_coroutine) {
		T = lua_newthread(L);
		lua_pushcfunction(T, value_fuzz_yield);
		FUZZ_CHECK(lua_resume(T, L, 0, &nres) == LUA_YIELD);
	}
	top = lua_gettop(T);
	n = value_unpack(T, (const char *)data, size, err, sizeof err);
	if (n == -1) {
		FUZZ_CHECK(lua_gettop(T) == top && err[0] != '\0');
		lua_settop(L, 0);
		return;
	}
	FUZZ_CHECK(lua_gettop(T) == top + n);
	value_buf_init(&buf);
	FUZZ_CHECK(value_pack(T, top + 1, n, &buf, err, sizeof err) == 0);
	FUZZ_CHECK(lua_gettop(T) == top + n);
	value_fuzz_check_copy(T, top + 1, n, buf.data, buf.len);
	value_buf_free(&buf);
	lua_settop(L, 0);
}

/* Build mode: sets t[k] = v for the top three values, if it can. */
static void
value_fuzz_set(lua_State *L, int base)
{
	int	top = lua_gettop(L);

	if (top - base < 3 || !lua_istable(L, top - 2) ||
	    lua_isnil(L, top - 1) ||
	    (lua_type(L, top - 1) == LUA_TNUMBER &&
	    isnan(lua_tonumber(L, top - 1))))
		return;
	lua_rawset(L, top - 2);
}

/* Build mode: runs one instruction of the program. */
static void
value_fuzz_step(lua_State *L, int base, struct fuzz_input *in)
{
	const uint8_t	*run;
	lua_Integer	 i;
	lua_Number	 d;
	uint64_t	 bits;
	size_t		 len;
	uint8_t		 op = fuzz_byte(in);
	int		 top = lua_gettop(L), at;

	/* Only set, append and pop do not push. */
	if (top - base >= VALUE_FUZZ_STACK && (op % 12) != 7 &&
	    (op % 12) != 8 && (op % 12) != 11)
		return;
	switch (op % 12) {
	case 0:
		lua_pushnil(L);
		break;
	case 1:
		lua_pushboolean(L, op & 0x10);
		break;
	case 2:
		i = (lua_Integer)((uint64_t)fuzz_u32(in) << 32 | fuzz_u32(in));
		lua_pushinteger(L, i);
		break;
	case 3:
		bits = (uint64_t)fuzz_u32(in) << 32 | fuzz_u32(in);
		memcpy(&d, &bits, sizeof d);
		lua_pushnumber(L, d);
		break;
	case 4:
	case 5:
		len = fuzz_run(in, 300, &run);
		lua_pushlstring(L, (const char *)run, len);
		break;
	case 6:
		lua_newtable(L);
		break;
	case 7:
	case 8:
		value_fuzz_set(L, base);
		break;
	case 9:
		/* Put a value of the stack on top: shares or cycles tables. */
		if (top > base) {
			at = base + 1 + fuzz_byte(in) % (top - base);
			lua_pushvalue(L, at);
		}
		break;
	case 10:
		if (op & 0x10)
			lua_pushcfunction(L, value_fuzz_yield);
		else if (top > base)
			lua_pop(L, 1);
		break;
	case 11:
		/* Append the top value to the table below it. */
		if (top - base >= 2 && lua_istable(L, top - 1) &&
		    !lua_isnil(L, top))
			lua_rawseti(L, top - 1,
			    (lua_Integer)lua_rawlen(L, top - 1) + 1);
		break;
	}
}

/* Build mode: builds values, packs them and checks the outcome. */
static void
value_fuzz_build(struct fuzz_input *in)
{
	lua_State		*L = value_fuzz_L;
	struct value_buf	 buf;
	const uint8_t		*prefix;
	char			 err[256];
	size_t			 plen, cap;
	int			 top, n;

	value_buf_init(&buf);
	cap = 32 + (size_t)fuzz_byte(in) * 64;
	buf.max = fuzz_byte(in) & 1 ? cap : VALUE_FUZZ_CAP;
	plen = fuzz_run(in, 16, &prefix);
	buf.data = xmalloc(plen + 1);
	memcpy(buf.data, prefix, plen);
	buf.len = buf.size = plen;

	FUZZ_CHECK(lua_checkstack(L, VALUE_FUZZ_STACK + 8));
	while (fuzz_more(in))
		value_fuzz_step(L, 0, in);
	top = n = lua_gettop(L);
	if (value_pack(L, 1, n, &buf, err, sizeof err) != 0) {
		FUZZ_CHECK(lua_gettop(L) == top && buf.len == plen);
		FUZZ_CHECK(memcmp(buf.data, prefix, plen) == 0);
		FUZZ_CHECK(strncmp(err, "argument ", 9) == 0);
	} else {
		FUZZ_CHECK(lua_gettop(L) == top && buf.len > plen);
		FUZZ_CHECK(buf.len <= buf.max);
		FUZZ_CHECK(memcmp(buf.data, prefix, plen) == 0);
		value_fuzz_check_copy(L, 1, n, buf.data + plen,
		    buf.len - plen);
	}
	value_buf_free(&buf);
	lua_settop(L, 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	value_fuzz_L = lua_newstate(value_fuzz_alloc, &value_fuzz_heaps[0]);
	value_fuzz_L2 = lua_newstate(value_fuzz_alloc, &value_fuzz_heaps[1]);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input	in;
	uint8_t			mode;

	if (size == 0)
		return (0);
	mode = data[0];
	if (mode < 0x80)
		value_fuzz_raw(data + 1, size - 1, mode & 1);
	else {
		fuzz_input_init(&in, data + 1, size - 1);
		value_fuzz_build(&in);
	}
	/* Each input frees what it made: no leak check is set off. */
	lua_gc(value_fuzz_L, LUA_GCCOLLECT);
	lua_gc(value_fuzz_L2, LUA_GCCOLLECT);
	return (0);
}
