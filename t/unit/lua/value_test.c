/* Tests for value.c: copying Lua values between states through bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "../../tap.h"
#include "lua/value.h"
#include "base/xmalloc.h"

/*
 * dump(v) renders a value exactly: integers and floats apart (floats in
 * hex, so -0.0 and the last bit show), strings quoted, tables with their
 * pairs sorted. Two values copy well if their dumps are equal.
 */
static const char dump_lua[] =
    "function dump(v)\n"
    "  local t = type(v)\n"
    "  if t == 'number' then\n"
    "    if math.type(v) == 'integer' then return 'i' .. v end\n"
    "    if v ~= v then return 'nan' end\n"
    "    return 'f' .. string.format('%a', v)\n"
    "  elseif t == 'string' then return string.format('%q', v)\n"
    "  elseif t == 'table' then\n"
    "    local pairs_ = {}\n"
    "    for k, x in next, v do\n"
    "      pairs_[#pairs_ + 1] = { dump(k), dump(x) }\n"
    "    end\n"
    "    table.sort(pairs_, function(a, b) return a[1] < b[1] end)\n"
    "    local out = {}\n"
    "    for i, kv in ipairs(pairs_) do\n"
    "      out[i] = '[' .. kv[1] .. ']=' .. kv[2]\n"
    "    end\n"
    "    return '{' .. table.concat(out, ',') .. '}'\n"
    "  end\n"
    "  return tostring(v)\n"
    "end\n";

/* A cap on a state's memory, for the out-of-memory test. */
struct limit {
	size_t	used;
	size_t	max;
};

static lua_State	*A;	/* packs */
static lua_State	*B;	/* unpacks */

/* Makes a state with the standard library and dump(). */
static lua_State *
state_new(void)
{
	lua_State	*L;

	if ((L = luaL_newstate()) == NULL)
		abort();
	luaL_openlibs(L);
	if (luaL_dostring(L, dump_lua) != LUA_OK)
		abort();
	return (L);
}

/* Runs "return EXPR" in L. Returns how many values it left, or -1. */
static int
eval(lua_State *L, const char *expr)
{
	char	*code;
	int	 top = lua_gettop(L), error;

	xasprintf(&code, "return %s", expr);
	error = luaL_loadstring(L, code) || lua_pcall(L, 0, LUA_MULTRET, 0);
	free(code);
	if (error) {
		diag("eval %s: %s", expr, lua_tostring(L, -1));
		lua_settop(L, top);
		return (-1);
	}
	return (lua_gettop(L) - top);
}

/* Returns dump() of n values from first, joined with "|". Free it. */
static char *
dump(lua_State *L, int first, int n)
{
	luaL_Buffer	 b;
	char		*s;
	int		 i;

	first = lua_absindex(L, first);
	luaL_buffinit(L, &b);
	for (i = 0; i < n; i++) {
		lua_getglobal(L, "dump");
		lua_pushvalue(L, first + i);
		lua_call(L, 1, 1);
		if (i > 0)
			luaL_addchar(&b, '|');
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	s = xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	return (s);
}

/* Evaluates expr in A, copies the values to B and compares the dumps. */
static void
round_trip(const char *expr, const char *name)
{
	struct value_buf	 buf;
	char			 err[256] = "", *want, *got;
	int			 n, m;

	value_buf_init(&buf);
	n = eval(A, expr);
	want = dump(A, 1, n);
	if (value_pack(A, 1, n, &buf, err, sizeof err) != 0)
		diag("pack: %s", err);
	m = value_unpack(B, buf.data, buf.len, err, sizeof err);
	if (m < 0)
		diag("unpack: %s", err);
	got = dump(B, 1, m < 0 ? 0 : m);
	ok(m == n && strcmp(got, want) == 0, "round trip: %s", name);
	if (strcmp(got, want) != 0 && strlen(want) < 300)
		diag("got %s, want %s", got, want);
	lua_settop(A, 0);
	lua_settop(B, 0);
	free(want);
	free(got);
	value_buf_free(&buf);
}

/* Checks that packing expr's values fails with exactly this message. */
static void
rejects(const char *expr, const char *message, const char *name)
{
	struct value_buf	buf;
	char			err[256] = "";
	int			n, r;

	value_buf_init(&buf);
	n = eval(A, expr);
	r = value_pack(A, 1, n, &buf, err, sizeof err);
	ok(r == -1 && buf.len == 0 && lua_gettop(A) == n,
	    "rejects %s (buffer and stack untouched)", name);
	is_str(err, message, "  with a clear message");
	lua_settop(A, 0);
	value_buf_free(&buf);
}

/* Every type on its own. */
static void
test_scalars(void)
{
	round_trip("nil", "nil");
	round_trip("true, false", "booleans");
	round_trip("0, 1, -1, 42", "small integers");
	round_trip("math.maxinteger, math.mininteger", "extreme integers");
	round_trip("1.0, 0.5, -2.25, 1e300, 5e-324", "floats");
	round_trip("2^53, 2^63, -2^63", "floats with integer values");
	round_trip("-0.0, 1/0, -1/0, 0/0", "-0.0, infinities, NaN");
	round_trip("'', 'a', 'hello world'", "strings");
	round_trip("'a\\0b\\255c\\0', '\\0', '\\255\\254'",
	    "strings with NUL and 0xff bytes");
	round_trip("string.rep('x', 255), string.rep('y', 256)",
	    "strings at the short/long boundary");
	round_trip("string.rep('\\0\\1\\255', 400000)", "a 1.2 MB string");
	round_trip("", "no values at all");
	round_trip("1, nil, 3, nil", "nils among values");
}

/* Integers stay integers and floats stay floats, checked from C. */
static void
test_number_kinds(void)
{
	struct value_buf	buf;
	char			err[256];

	value_buf_init(&buf);
	lua_pushinteger(A, 3);
	lua_pushnumber(A, 3.0);
	ok(value_pack(A, 1, 2, &buf, err, sizeof err) == 0, "kinds: packed");
	is_int(value_unpack(B, buf.data, buf.len, err, sizeof err), 2,
	    "kinds: two values");
	ok(lua_isinteger(B, 1) && lua_tointeger(B, 1) == 3,
	    "kinds: 3 is an integer");
	ok(!lua_isinteger(B, 2) && lua_tonumber(B, 2) == 3.0,
	    "kinds: 3.0 is a float");
	lua_settop(A, 0);
	lua_settop(B, 0);
	value_buf_free(&buf);
}

/* Tables: empty, arrays, records, nested, odd keys, big. */
static void
test_tables(void)
{
	round_trip("{}", "an empty table");
	round_trip("{ {}, { {} }, x = {} }", "empty tables inside tables");
	round_trip("{ 1, 2, 3, 'four', 5.0 }", "an array");
	round_trip("{ a = 1, b = 'two', c = true, d = 4.5 }", "a record");
	round_trip("{ 1, nil, 3, [10] = 10 }", "an array with holes");
	round_trip("{ [1] = 'int', ['1'] = 'str', [1.5] = 'float', "
	    "[true] = 't', [false] = 'f', [-7] = 'neg', [2^70] = 'big', "
	    "[math.mininteger] = 'min' }", "keys of every kind");
	round_trip("{ user = { name = 'bob', tags = { 'a', 'b' }, "
	    "seen = { at = 1.5, n = 3 } }, ok = true }", "nested tables");
	round_trip("{ ['\\0k\\255'] = '\\0v\\255' }", "binary keys and values");
	round_trip("(function() local x = { 1 } return { x, x, y = x } end)()",
	    "a shared table, copied twice");
	round_trip("(function() local t = {} for i = 1, 100000 do t[i] = i * 2 "
	    "end for i = 1, 10000 do t['k' .. i] = i + 0.5 end return t end)()",
	    "a big table (100k array, 10k hash)");
	round_trip("(function() local t = { 'leaf' } for i = 1, 99 do "
	    "t = { t } end return t end)()", "tables 100 deep");
	round_trip("{ 1 }, { 2 }, 'x', { { 3 } }", "several tables");
}

/* An array copies into an array: # and ipairs work on the copy. */
static void
test_array_shape(void)
{
	struct value_buf	buf;
	char			err[256];

	value_buf_init(&buf);
	eval(A, "{ 10, 20, 30, 40, n = 4 }");
	value_pack(A, 1, 1, &buf, err, sizeof err);
	value_unpack(B, buf.data, buf.len, err, sizeof err);
	lua_setglobal(B, "copy");
	eval(B, "#copy, copy[4], copy.n");
	is_int(lua_tointeger(B, 1), 4, "shape: # of the copy");
	is_int(lua_tointeger(B, 2), 40, "shape: its last element");
	is_int(lua_tointeger(B, 3), 4, "shape: its field");
	lua_settop(A, 0);
	lua_settop(B, 0);
	value_buf_free(&buf);
}

/* Metatables are not copied, and contents are read raw. */
static void
test_metatables(void)
{
	struct value_buf	buf;
	char			err[256];

	value_buf_init(&buf);
	eval(A, "setmetatable({ a = 1 }, { __index = function() return 9 end,"
	    " __pairs = function() error('no') end })");
	ok(value_pack(A, 1, 1, &buf, err, sizeof err) == 0,
	    "meta: packed raw, no metamethod called");
	value_unpack(B, buf.data, buf.len, err, sizeof err);
	ok(!lua_getmetatable(B, 1), "meta: the copy has no metatable");
	lua_getfield(B, 1, "b");
	ok(lua_isnil(B, -1), "meta: __index did not come along");
	lua_settop(A, 0);
	lua_settop(B, 0);
	value_buf_free(&buf);
}

/* What cannot be copied is refused, saying what and where. */
static void
test_rejects(void)
{
	rejects("1, function() end", "argument 2: cannot copy a function",
	    "a function");
	rejects("print", "argument 1: cannot copy a function", "a C function");
	rejects("io.stdout", "argument 1: cannot copy a userdata",
	    "a userdata");
	rejects("1, 2, coroutine.create(print)",
	    "argument 3: cannot copy a thread", "a coroutine");
	rejects("{ cb = print }",
	    "argument 1: cannot copy a function (at key \"cb\")",
	    "a function in a table");
	rejects("'x', { 1, 2, { 3, io.stderr } }",
	    "argument 2: cannot copy a userdata (at key 2)",
	    "a userdata deep in a table");
	rejects("{ [print] = 1 }",
	    "argument 1: cannot copy a function as a table key",
	    "a function as a key");
	rejects("{ [{}] = 1 }",
	    "argument 1: cannot copy a table as a table key",
	    "a table as a key");
	rejects("(function() local t = {} t.self = t return t end)()",
	    "argument 1: cannot copy a table that contains itself",
	    "a table in itself");
	rejects("(function() local a, b = {}, {} a.b = b b.c = { a } "
	    "return 0, a end)()",
	    "argument 2: cannot copy a table that contains itself",
	    "an indirect cycle");
	rejects("(function() local t = {} for i = 1, 100 do t = { t } end "
	    "return t end)()",
	    "argument 1: tables nested deeper than 100 levels",
	    "tables 101 deep");
	rejects("{ [string.rep('k', 50)] = print }",
	    "argument 1: cannot copy a function (at key "
	    "\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...\")",
	    "a long key, cut in the message");
}

/* A light userdata, and a missing value, from C. */
static void
test_rejects_c(void)
{
	struct value_buf	buf;
	char			err[256];
	int			x;

	value_buf_init(&buf);
	lua_pushlightuserdata(A, &x);
	is_int(value_pack(A, 1, 1, &buf, err, sizeof err), -1,
	    "rejects a light userdata");
	is_str(err, "argument 1: cannot copy a userdata", "  saying so");
	lua_settop(A, 0);
	lua_pushnil(A);
	is_int(value_pack(A, 1, 2, &buf, err, sizeof err), -1,
	    "rejects a value past the top");
	is_str(err, "argument 2: no such value", "  saying so");
	is_int(value_pack(A, 1, -1, &buf, err, sizeof err), -1,
	    "rejects a negative count");
	lua_pushlightuserdata(A, &x);
	is_int(value_pack(A, 3, 1, &buf, NULL, 0), -1,
	    "fails quietly without an error buffer");
	lua_settop(A, 0);
	value_buf_free(&buf);
}

/* Positions are stack indices; negative ones are made absolute. */
static void
test_positions(void)
{
	struct value_buf	buf;
	char			err[256];

	value_buf_init(&buf);
	eval(A, "'name', 1, 2, print");
	is_int(value_pack(A, 2, 3, &buf, err, sizeof err), -1,
	    "position: refused");
	is_str(err, "argument 4: cannot copy a function",
	    "position: the stack index, as luaL_argerror counts");
	is_int(value_pack(A, -3, 2, &buf, err, sizeof err), 0,
	    "position: a negative first index");
	is_int(value_unpack(B, buf.data, buf.len, err, sizeof err), 2,
	    "position: two values");
	ok(lua_tointeger(B, 1) == 1 && lua_tointeger(B, 2) == 2,
	    "position: the right two");
	lua_settop(A, 0);
	lua_settop(B, 0);
	value_buf_free(&buf);
}

/* The size cap, set per buffer or the default 64 MiB. */
static void
test_size_cap(void)
{
	struct value_buf	buf;
	char			err[256];

	value_buf_init(&buf);
	buf.max = 1000;
	eval(A, "string.rep('x', 900), string.rep('y', 200)");
	is_int(value_pack(A, 1, 1, &buf, err, sizeof err), 0,
	    "cap: 900 bytes fit in 1000");
	is_int(value_pack(A, 2, 1, &buf, err, sizeof err), -1,
	    "cap: 200 more do not");
	is_str(err, "argument 2: more than 1000 bytes to copy",
	    "cap: saying so");
	ok(buf.len > 900 && buf.len < 1000, "cap: the first pack is kept");
	lua_settop(A, 0);
	value_buf_free(&buf);

	value_buf_init(&buf);
	eval(A, "string.rep('z', 64 * 1024 * 1024)");
	is_int(value_pack(A, 1, 1, &buf, err, sizeof err), -1,
	    "cap: 64 MiB of string is over the default cap");
	is_str(err, "argument 1: more than 67108864 bytes to copy",
	    "cap: saying so");
	ok(buf.size < 1024 * 1024, "cap: nothing big was allocated");
	lua_settop(A, 0);
	value_buf_free(&buf);
}

/* value_pack appends; each part unpacks on its own. */
static void
test_append(void)
{
	struct value_buf	buf;
	char			err[256];
	size_t			first;

	value_buf_init(&buf);
	eval(A, "'one', { 2 }");
	value_pack(A, 1, 1, &buf, err, sizeof err);
	first = buf.len;
	value_pack(A, 2, 1, &buf, err, sizeof err);
	is_int(value_unpack(B, buf.data, first, err, sizeof err), 1,
	    "append: the first part");
	is_int(value_unpack(B, buf.data + first, buf.len - first, err,
	    sizeof err), 1, "append: the second part");
	is_str(lua_tostring(B, 1), "one", "append: first value");
	ok(lua_istable(B, 2), "append: second value");
	value_buf_clear(&buf);
	is_int(buf.len, 0, "append: clear empties the buffer");
	lua_settop(A, 0);
	lua_settop(B, 0);
	value_buf_free(&buf);
}

/* Packs expr from A into buf (cleared first). */
static void
pack_expr(const char *expr, struct value_buf *buf)
{
	char	err[256];
	int	n;

	value_buf_clear(buf);
	n = eval(A, expr);
	if (value_pack(A, 1, n, buf, err, sizeof err) != 0)
		diag("pack %s: %s", expr, err);
	lua_settop(A, 0);
}

/* Checks that unpacking these bytes fails with the message and no trace. */
static void
malformed(const void *data, size_t len, const char *message,
    const char *name)
{
	char	err[256] = "";
	int	top = lua_gettop(B);

	ok(value_unpack(B, data, len, err, sizeof err) == -1 &&
	    lua_gettop(B) == top, "malformed: %s", name);
	if (message != NULL)
		is_str(err, message, "  with its message");
}

/* Appends bytes to a hand-made buffer. */
static void
put(struct value_buf *buf, const void *data, size_t len)
{
	buf->data = xrealloc(buf->data, buf->len + len);
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
}

/* Hand-made bad buffers are refused with a message. */
static void
test_malformed(void)
{
	struct value_buf	b;
	uint32_t		count;
	uint64_t		pairs[2];
	unsigned char		tag;
	double			nan = 0.0 / 0.0;
	int			i;

	malformed("", 0, "malformed value buffer: truncated", "empty");
	value_buf_init(&b);
	count = 1;
	tag = 99;
	put(&b, &count, 4);
	put(&b, &tag, 1);
	malformed(b.data, b.len, "malformed value buffer: unknown tag",
	    "an unknown tag");

	value_buf_free(&b);
	count = 1000;
	put(&b, &count, 4);
	tag = 0;
	put(&b, &tag, 1);
	malformed(b.data, b.len, "malformed value buffer: bad value count",
	    "more values than bytes");

	pack_expr("1, 2", &b);
	put(&b, "", 1);
	malformed(b.data, b.len, "malformed value buffer: trailing bytes",
	    "trailing bytes");

	value_buf_free(&b);
	count = 1;
	tag = 7;
	pairs[0] = UINT64_MAX / 2;
	pairs[1] = 0;
	put(&b, &count, 4);
	put(&b, &tag, 1);
	put(&b, pairs, sizeof pairs);
	malformed(b.data, b.len, "malformed value buffer: bad table size",
	    "a huge pair count");

	value_buf_free(&b);
	pairs[0] = 1;
	put(&b, &count, 4);
	put(&b, &tag, 1);
	put(&b, pairs, sizeof pairs);
	tag = 0;
	put(&b, &tag, 1);
	put(&b, &tag, 1);
	malformed(b.data, b.len, "malformed value buffer: bad table key",
	    "a nil key");

	b.len = 4 + 1 + sizeof pairs;
	tag = 4;
	put(&b, &tag, 1);
	put(&b, &nan, sizeof nan);
	tag = 2;
	put(&b, &tag, 1);
	malformed(b.data, b.len, "malformed value buffer: NaN as a table key",
	    "a NaN key");

	/* 150 nested tables of one pair each, written by hand. */
	value_buf_free(&b);
	put(&b, &count, 4);
	for (i = 0; i < 150; i++) {
		tag = 2;	/* key true */
		if (i > 0)
			put(&b, &tag, 1);
		tag = 7;
		put(&b, &tag, 1);
		put(&b, pairs, sizeof pairs);
	}
	tag = 2;
	put(&b, &tag, 1);
	put(&b, &tag, 1);
	malformed(b.data, b.len,
	    "malformed value buffer: tables nested too deep",
	    "tables nested too deep");
	value_buf_free(&b);
}

/* Every cut of a good buffer is refused; no crash, nothing left behind. */
static void
test_truncated(void)
{
	struct value_buf	 b;
	char			 err[256];
	size_t			 len, bad = 0;
	int			 top = lua_gettop(B);

	value_buf_init(&b);
	pack_expr("1, 2.5, 'str', { a = { 1, 2, 'x' }, [true] = false }, "
	    "string.rep('L', 300), nil", &b);
	for (len = 0; len < b.len; len++) {
		if (value_unpack(B, b.data, len, err, sizeof err) != -1 ||
		    lua_gettop(B) != top)
			bad++;
	}
	is_int(bad, 0, "truncated: every cut refused, stack unchanged");
	value_buf_free(&b);
}

/* Random byte changes either unpack or fail, never crash. */
static void
test_mutations(void)
{
	struct value_buf	 b;
	char			 err[256], *copy;
	int			 i, j, n, fails = 0, top = lua_gettop(B);
	int			 leftover = 0;

	value_buf_init(&b);
	pack_expr("{ 1, 2, { 3, 'four', { x = 5.5, [6] = true } }, "
	    "name = 'bob', [7.5] = 'f' }, 'tail', 42", &b);
	copy = xmalloc(b.len);
	srandom(1);
	for (i = 0; i < 5000; i++) {
		memcpy(copy, b.data, b.len);
		for (j = 0; j < 1 + i % 4; j++)
			copy[random() % b.len] = (char)random();
		n = value_unpack(B, copy, b.len, err, sizeof err);
		if (n < 0)
			fails++;
		else
			lua_settop(B, top);
		if (lua_gettop(B) != top)
			leftover++;
	}
	is_int(leftover, 0, "mutations: the stack is always left clean");
	diag("%d of 5000 mutated buffers refused", fails);
	free(copy);
	value_buf_free(&b);
}

/* Unpacking straight onto a suspended coroutine, then resuming it. */
static void
test_coroutine(void)
{
	struct value_buf	 buf;
	lua_State		*co;
	char			 err[256], *got;
	int			 n, nres;

	value_buf_init(&buf);
	pack_expr("'a', { b = 2 }, 3.5", &buf);
	eval(B, "coroutine.create(function(...) "
	    "local x, y, z = coroutine.yield() return z, y.b, x end)");
	co = lua_tothread(B, -1);
	lua_resume(co, B, 0, &nres);
	is_int(lua_status(co), LUA_YIELD, "coroutine: suspended");
	lua_pop(co, nres);
	n = value_unpack(co, buf.data, buf.len, err, sizeof err);
	is_int(n, 3, "coroutine: three values pushed onto it");
	is_int(lua_resume(co, B, n, &nres), LUA_OK, "coroutine: resumed");
	got = dump(co, -nres, nres);
	is_str(got, "f0x1.cp+1|i2|\"a\"", "coroutine: it got them");
	free(got);
	lua_settop(B, 0);
	value_buf_free(&buf);
}

/* An allocator that refuses past a limit. */
static void *
limit_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct limit	*l = ud;
	void		*p;

	if (ptr == NULL)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		l->used -= osize;
		return (NULL);
	}
	if (nsize > osize && l->used + (nsize - osize) > l->max)
		return (NULL);
	if ((p = realloc(ptr, nsize)) == NULL)
		return (NULL);
	l->used = l->used - osize + nsize;
	return (p);
}

/* A state out of memory gets an error, not a panic, and lives on. */
static void
test_out_of_memory(void)
{
	struct value_buf	 buf;
	struct limit		 limit = { 0, SIZE_MAX };
	lua_State		*L;
	char			 err[256] = "";

	value_buf_init(&buf);
	pack_expr("{ string.rep('m', 3000000) }, 'after'", &buf);
	if ((L = lua_newstate(limit_alloc, &limit)) == NULL)
		abort();
	luaL_openlibs(L);
	limit.max = limit.used + 1024 * 1024;
	is_int(value_unpack(L, buf.data, buf.len, err, sizeof err), -1,
	    "memory: refused past the state's limit");
	is_str(err, "not enough memory", "memory: saying so");
	is_int(lua_gettop(L), 0, "memory: stack unchanged");
	limit.max = SIZE_MAX;
	is_int(value_unpack(L, buf.data, buf.len, err, sizeof err), 2,
	    "memory: fine once there is room");
	lua_close(L);
	value_buf_free(&buf);
}

int
main(void)
{
	A = state_new();
	B = state_new();
	test_scalars();
	test_number_kinds();
	test_tables();
	test_array_shape();
	test_metatables();
	test_rejects();
	test_rejects_c();
	test_positions();
	test_size_cap();
	test_append();
	test_malformed();
	test_truncated();
	test_mutations();
	test_coroutine();
	test_out_of_memory();
	lua_close(A);
	lua_close(B);
	return (done_testing());
}
