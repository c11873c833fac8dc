/*
 * The registry's Lua scripts and the calls that run them. Every script
 * gets ARGV[1] = the key prefix and ARGV[2] = this node, then its own
 * arguments, and builds its keys from those (a single Redis, not Redis
 * Cluster). Times come from Redis TIME, never from a node's clock.
 *
 * The scripts are loaded with SCRIPT LOAD in the command link's hello,
 * so every EVALSHA after it on that connection finds them; a NOSCRIPT
 * anyway (SCRIPT FLUSH while connected) resends that call as EVAL.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xmalloc.h"
#include "cluster/registry.h"

/* Helpers every script starts with. */
static const char registry_prelude[] =
"local P, node = ARGV[1], ARGV[2]\n"
"local K_nodes, K_names = P .. ':nodes', P .. ':names'\n"
"local function K_node(n) return P .. ':node:' .. n end\n"
"local function K_old(n) return P .. ':old:' .. n end\n"
"local function K_chan(n) return P .. ':chan:' .. n end\n"
"local function K_m(ch) return P .. ':m:' .. ch end\n"
"local function now_ms()\n"
"  local t = redis.call('TIME')\n"
"  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"end\n"
"local function registered()\n"
"  return redis.call('ZSCORE', K_nodes, node)\n"
"end\n"
"local function words(s)\n"
"  local t = {}\n"
"  for w in string.gmatch(s or '', '%S+') do t[#t + 1] = w end\n"
"  return t\n"
"end\n"
"local function has(list, w)\n"
"  for _, x in ipairs(list) do if x == w then return true end end\n"
"  return false\n"
"end\n"
/* A node's count for a channel: "members subscribers", or no field. */
"local function counts(n, ch)\n"
"  local v = redis.call('HGET', K_chan(n), ch)\n"
"  local m, s = string.match(v or '', '^(%d+) (%d+)$')\n"
"  return tonumber(m) or 0, tonumber(s) or 0\n"
"end\n"
"local function set_counts(n, ch, m, s)\n"
"  if m <= 0 and s <= 0 then redis.call('HDEL', K_chan(n), ch)\n"
"  else redis.call('HSET', K_chan(n), ch, math.max(m, 0) .. ' ' ..\n"
"    math.max(s, 0)) end\n"
"end\n"
"local function bump(n, ch, dm)\n"
"  local m, s = counts(n, ch)\n"
"  set_counts(n, ch, m + dm, s)\n"
"end\n"
/* Removes a membership or a name only if it is still n's. */
"local function unmember(n, name, ch)\n"
"  if redis.call('HGET', K_m(ch), name) == n then\n"
"    redis.call('HDEL', K_m(ch), name)\n"
"  end\n"
"end\n"
"local function unname(n, name)\n"
"  local l = string.lower(name)\n"
"  if redis.call('HGET', K_names, l) == n .. ' ' .. name then\n"
"    redis.call('HDEL', K_names, l)\n"
"  end\n"
"end\n"
/* Quit and part envelopes, as envelope.c lays them out, unsequenced. */
"local function u8(s) return string.char(#s) .. s end\n"
"local function u32(n)\n"
"  return string.char(math.floor(n / 16777216) % 256,\n"
"    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)\n"
"end\n"
"local function quit_envelope(origin, name, reason, chans)\n"
"  return 'LC\\1Q' .. string.rep('\\0', 12) .. u8(origin) .. u8(name) ..\n"
"    u8('') .. u32(#reason) .. reason .. u32(#chans) .. chans\n"
"end\n"
"local function part_envelope(origin, ch, name)\n"
"  return 'LC\\1P' .. string.rep('\\0', 12) .. u8(origin) .. u8(ch) ..\n"
"    u8(name) .. u32(0) .. u32(0)\n"
"end\n"
/* A node's connections, with those of an unfinished restore merged. */
"local function entries(n)\n"
"  local e = {}\n"
"  for _, k in ipairs({K_old(n), K_node(n)}) do\n"
"    local all = redis.call('HGETALL', k)\n"
"    for i = 1, #all, 2 do\n"
"      local list = words(e[all[i]])\n"
"      for _, ch in ipairs(words(all[i + 1])) do\n"
"        if not has(list, ch) then list[#list + 1] = ch end\n"
"      end\n"
"      e[all[i]] = table.concat(list, ' ')\n"
"    end\n"
"  end\n"
"  return e\n"
"end\n"
/* Removes a node and all it held; one quit event per connection. */
"local function drop_node(n, reason)\n"
"  local e, names = entries(n), {}\n"
"  for name in pairs(e) do names[#names + 1] = name end\n"
"  table.sort(names)\n"
"  for _, name in ipairs(names) do\n"
"    unname(n, name)\n"
"    for _, ch in ipairs(words(e[name])) do unmember(n, name, ch) end\n"
"    redis.call('PUBLISH', P .. ':events',\n"
"      quit_envelope(n, name, reason, e[name]))\n"
"  end\n"
"  redis.call('DEL', K_node(n), K_old(n), K_chan(n))\n"
"  redis.call('ZREM', K_nodes, n)\n"
"  return #names\n"
"end\n";

/* One script: its name for logs and its body after the prelude. */
struct registry_source {
	const char	*name;
	const char	*body;
};

static const struct registry_source registry_sources[REGISTRY_NSCRIPTS] = {
[REGISTRY_CLAIM] = { "claim",
"if not registered() then return -2 end\n"
"local name, old, nk = ARGV[3], ARGV[4], K_node(node)\n"
"local l = string.lower(name)\n"
"local cur = redis.call('HGET', K_names, l)\n"
"if cur and string.match(cur, '^(%S+)') ~= node then return 0 end\n"
"redis.call('HSET', K_names, l, node .. ' ' .. name)\n"
"if old ~= '' and old ~= name then\n"
"  if string.lower(old) ~= l then unname(node, old) end\n"
"  local chans = redis.call('HGET', nk, old)\n"
"  if chans then\n"
"    redis.call('HDEL', nk, old)\n"
"    redis.call('HSET', nk, name, chans)\n"
"    for _, ch in ipairs(words(chans)) do\n"
"      unmember(node, old, ch)\n"
"      redis.call('HSET', K_m(ch), name, node)\n"
"    end\n"
"  end\n"
"end\n"
"if redis.call('HEXISTS', nk, name) == 0 then\n"
"  redis.call('HSET', nk, name, '')\n"
"end\n"
"return 1\n" },

[REGISTRY_RELEASE] = { "release",
"local name, nk = ARGV[3], K_node(node)\n"
"local chans = redis.call('HGET', nk, name)\n"
"if chans then\n"
"  for _, ch in ipairs(words(chans)) do\n"
"    unmember(node, name, ch)\n"
"    bump(node, ch, -1)\n"
"  end\n"
"  redis.call('HDEL', nk, name)\n"
"end\n"
"unname(node, name)\n"
"return 1\n" },

[REGISTRY_JOIN] = { "join",
"if not registered() then return -2 end\n"
"local name, ch, nk = ARGV[3], ARGV[4], K_node(node)\n"
"local list = words(redis.call('HGET', nk, name) or '')\n"
"if not has(list, ch) then\n"
"  list[#list + 1] = ch\n"
"  redis.call('HSET', nk, name, table.concat(list, ' '))\n"
"  bump(node, ch, 1)\n"
"end\n"
"if redis.call('HGET', K_names, string.lower(name)) == node .. ' ' .. name\n"
"then\n"
"  redis.call('HSET', K_m(ch), name, node)\n"
"end\n"
"return redis.call('HLEN', K_m(ch))\n" },

[REGISTRY_PART] = { "part",
"local name, ch, nk = ARGV[3], ARGV[4], K_node(node)\n"
"local chans = redis.call('HGET', nk, name)\n"
"if chans then\n"
"  local out, found = {}, false\n"
"  for _, c in ipairs(words(chans)) do\n"
"    if c == ch then found = true else out[#out + 1] = c end\n"
"  end\n"
"  if found then\n"
"    redis.call('HSET', nk, name, table.concat(out, ' '))\n"
"    bump(node, ch, -1)\n"
"  end\n"
"end\n"
"unmember(node, name, ch)\n"
"return redis.call('HLEN', K_m(ch))\n" },

[REGISTRY_SUBS] = { "subs",
"if not registered() then return -2 end\n"
"local ch, s = ARGV[3], tonumber(ARGV[4])\n"
"local m = counts(node, ch)\n"
"set_counts(node, ch, m, s)\n"
"return s\n" },

[REGISTRY_WHO] = { "who",
"local all, live, names, now = redis.call('HGETALL', K_m(ARGV[3])),\n"
"  {}, {}, now_ms()\n"
"for i = 1, #all, 2 do\n"
"  local n = all[i + 1]\n"
"  if live[n] == nil then\n"
"    local s = redis.call('ZSCORE', K_nodes, n)\n"
"    live[n] = (s and tonumber(s) >= now) and true or false\n"
"  end\n"
"  if live[n] then names[#names + 1] = all[i] end\n"
"end\n"
"table.sort(names)\n"
"return names\n" },

[REGISTRY_LIST] = { "list",
"local nodes = redis.call('ZRANGEBYSCORE', K_nodes,\n"
"  string.format('%d', now_ms()), '+inf')\n"
"local m, s, chans, out = {}, {}, {}, {}\n"
"for _, n in ipairs(nodes) do\n"
"  local all = redis.call('HGETALL', K_chan(n))\n"
"  for i = 1, #all, 2 do\n"
"    local ch = all[i]\n"
"    local a, b = string.match(all[i + 1], '^(%d+) (%d+)$')\n"
"    if a then\n"
"      if not m[ch] then m[ch], s[ch] = 0, 0; chans[#chans + 1] = ch end\n"
"      m[ch], s[ch] = m[ch] + tonumber(a), s[ch] + tonumber(b)\n"
"    end\n"
"  end\n"
"end\n"
"table.sort(chans)\n"
"for _, ch in ipairs(chans) do\n"
"  out[#out + 1] = ch .. ' ' .. string.format('%d %d', m[ch], s[ch])\n"
"end\n"
"return out\n" },

[REGISTRY_MSG] = { "msg",
"local v = redis.call('HGET', K_names, string.lower(ARGV[3]))\n"
"if not v then return 0 end\n"
"local owner = string.match(v, '^(%S+)')\n"
"local s = redis.call('ZSCORE', K_nodes, owner)\n"
"if not s or tonumber(s) < now_ms() then return 0 end\n"
"redis.call('PUBLISH', P .. ':n:' .. owner, ARGV[4])\n"
"return 1\n" },

[REGISTRY_TICK] = { "tick",
"local now, lease = now_ms(), tonumber(ARGV[3])\n"
"local last = tonumber(redis.call('GET', P .. ':tick')) or 0\n"
"redis.call('SET', P .. ':tick', string.format('%d', now))\n"
"local present = registered()\n"
"if present then redis.call('ZADD', K_nodes, now + lease, node) end\n"
"local dead = redis.call('ZRANGEBYSCORE', K_nodes, '-inf',\n"
"  '(' .. string.format('%d', now))\n"
"local reaped = 0\n"
/*
 * No tick for longer than a lease: Redis itself was stalled (or every
 * node was away), and its clock ran on without us. Renew every lease
 * rather than reap nodes that could not renew, for a lease and the grace
 * (ARGV[4]): a node whose link dropped in the stall needs the time to come
 * back (its reconnection waits up to LINK_BACKOFF_MAX_MS, then connects
 * and says hello within LINK_HELLO_MS); the dead are reaped after that.
 */
"if last > 0 and now - last > lease then\n"
"  local grace = tonumber(ARGV[4]) or lease\n"
"  for _, n in ipairs(dead) do\n"
"    redis.call('ZADD', K_nodes, now + lease + grace, n)\n"
"  end\n"
"  dead = {}\n"
"end\n"
"for _, n in ipairs(dead) do\n"
"  if n ~= node then drop_node(n, 'node-lost'); reaped = reaped + 1 end\n"
"end\n"
"return { present and 1 or 0,\n"
"  redis.call('ZCOUNT', K_nodes, string.format('%d', now), '+inf'),\n"
"  reaped }\n" },

[REGISTRY_BEGIN] = { "begin",
"local now = now_ms()\n"
"local absent = redis.call('ZADD', K_nodes, now + tonumber(ARGV[3]),\n"
"  node)\n"
"local nk, od = K_node(node), K_old(node)\n"
"if redis.call('EXISTS', nk) == 1 then\n"
"  if redis.call('EXISTS', od) == 0 then\n"
"    redis.call('RENAME', nk, od)\n"
"  else\n"
"    local all = redis.call('HGETALL', nk)\n"
"    for i = 1, #all, 2 do\n"
"      local list = words(redis.call('HGET', od, all[i]) or '')\n"
"      for _, ch in ipairs(words(all[i + 1])) do\n"
"        if not has(list, ch) then list[#list + 1] = ch end\n"
"      end\n"
"      redis.call('HSET', od, all[i], table.concat(list, ' '))\n"
"    end\n"
"    redis.call('DEL', nk)\n"
"  end\n"
"end\n"
"redis.call('DEL', K_chan(node))\n"
"return { absent,\n"
"  redis.call('ZCOUNT', K_nodes, string.format('%d', now), '+inf') }\n" },

[REGISTRY_END] = { "end",
/* What was not declared again left while the link was down: say so. */
"local nk, od, reason = K_node(node), K_old(node), ARGV[3]\n"
"local all, dropped = redis.call('HGETALL', od), 0\n"
"for i = 1, #all, 2 do\n"
"  local name, chans = all[i], all[i + 1]\n"
"  local now = redis.call('HGET', nk, name)\n"
"  if not now then\n"
"    unname(node, name)\n"
"    for _, ch in ipairs(words(chans)) do unmember(node, name, ch) end\n"
"    redis.call('PUBLISH', P .. ':events',\n"
"      quit_envelope(node, name, reason, chans))\n"
"    dropped = dropped + 1\n"
"  else\n"
"    local list = words(now)\n"
"    for _, ch in ipairs(words(chans)) do\n"
"      if not has(list, ch) then\n"
"        unmember(node, name, ch)\n"
"        redis.call('PUBLISH', P .. ':c:' .. ch,\n"
"          part_envelope(node, ch, name))\n"
"      end\n"
"    end\n"
"  end\n"
"end\n"
"redis.call('DEL', od)\n"
"return dropped\n" },

[REGISTRY_LEAVE] = { "leave",
"return drop_node(node, ARGV[3])\n" },
};

/*
 * The registry: the full text of each script, the SHA1 that SCRIPT LOAD
 * answered for it (empty until then), and the names every call passes.
 */
struct registry {
	struct link	*link;
	char		*prefix;
	char		*node;
	char		*text[REGISTRY_NSCRIPTS];
	char		 sha[REGISTRY_NSCRIPTS][41];
};

/*
 * One call in flight: its arguments are kept (back to back in args) so
 * that it can be sent again as EVAL after a NOSCRIPT.
 */
struct registry_call {
	struct registry		*reg;
	enum registry_script	 script;
	link_reply_cb		 fn;
	void			*arg;
	int			 argc;
	char			*args;
	size_t			 lens[REGISTRY_ARGS_MAX];
	int			 as_eval;
};

/* Makes the registry of a node that sends on a command link. */
struct registry *
registry_new(struct link *link, const char *prefix, const char *node)
{
	struct registry	*reg = xcalloc(1, sizeof *reg);
	int		 i;

	reg->link = link;
	reg->prefix = xstrdup(prefix);
	reg->node = xstrdup(node);
	for (i = 0; i < REGISTRY_NSCRIPTS; i++) {
		xasprintf(&reg->text[i], "%s%s", registry_prelude,
		    registry_sources[i].body);
	}
	return (reg);
}

/* Frees the registry; its calls in flight must have been answered. */
void
registry_free(struct registry *reg)
{
	int	i;

	if (reg == NULL)
		return;
	for (i = 0; i < REGISTRY_NSCRIPTS; i++)
		free(reg->text[i]);
	free(reg->prefix);
	free(reg->node);
	free(reg);
}

/* Returns a script's name, for logs. */
const char *
registry_script_name(enum registry_script script)
{
	return (registry_sources[script].name);
}

/* Checks a SCRIPT LOAD answer and keeps the SHA1. */
static const char *
registry_check_load(void *arg, redisReply *r, char *buf, size_t size)
{
	char	*sha = arg;

	if (r->type == REDIS_REPLY_STRING && r->len == 40) {
		memcpy(sha, r->str, 41);
		return (NULL);
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(buf, size, "SCRIPT LOAD refused: %s", r->str);
		return (buf);
	}
	return ("not a Redis server: a strange answer to SCRIPT LOAD");
}

/* Loads every script, as part of the command link's hello. */
void
registry_hello(struct registry *reg)
{
	const char	*argv[3];
	size_t		 lens[3];
	int		 i;

	argv[0] = "SCRIPT";
	argv[1] = "LOAD";
	lens[0] = 6;
	lens[1] = 4;
	for (i = 0; i < REGISTRY_NSCRIPTS; i++) {
		argv[2] = reg->text[i];
		lens[2] = strlen(reg->text[i]);
		link_hello(reg->link, registry_check_load, reg->sha[i], 3,
		    argv, lens);
	}
}

static int	registry_send(struct registry_call *);

/* A script's answer; a NOSCRIPT is sent again as EVAL, once. */
static void
registry_reply(void *arg, redisReply *r)
{
	struct registry_call	*call = arg;

	if (r != NULL && r->type == REDIS_REPLY_ERROR && !call->as_eval &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		call->as_eval = 1;
		if (registry_send(call) == 0)
			return;
		r = NULL;
	}
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		log_warn("cluster: script %s failed: %s",
		    registry_script_name(call->script), r->str);
	if (call->fn != NULL)
		call->fn(call->arg, r);
	free(call->args);
	free(call);
}

/* Sends a call as EVALSHA, or EVAL. Returns 0, or -1 if the link is down. */
static int
registry_send(struct registry_call *call)
{
	struct registry	*reg = call->reg;
	const char	*argv[5 + REGISTRY_ARGS_MAX];
	size_t		 lens[5 + REGISTRY_ARGS_MAX];
	const char	*p = call->args;
	int		 i, eval;

	eval = call->as_eval || reg->sha[call->script][0] == '\0';
	argv[0] = eval ? "EVAL" : "EVALSHA";
	argv[1] = eval ? reg->text[call->script] : reg->sha[call->script];
	argv[2] = "0";
	argv[3] = reg->prefix;
	argv[4] = reg->node;
	for (i = 0; i < call->argc; i++) {
		argv[5 + i] = p;
		lens[5 + i] = call->lens[i];
		p += call->lens[i];
	}
	for (i = 0; i < 5; i++)
		lens[i] = strlen(argv[i]);
	return (link_command(reg->link, registry_reply, call,
	    5 + call->argc, argv, lens));
}

/*
 * Runs a script with up to REGISTRY_ARGS_MAX arguments; fn gets the
 * answer, or NULL if the link was lost first. Returns 0, or -1 (and fn
 * is not called) if the command link is not ready.
 */
int
registry_call(struct registry *reg, enum registry_script script,
    link_reply_cb fn, void *arg, int argc, const char **argv,
    const size_t *lens)
{
	struct registry_call	*call;
	size_t			 total = 0, off = 0;
	int			 i;

	if (argc > REGISTRY_ARGS_MAX)
		fatalx("registry_call: %d arguments", argc);
	if (!link_is_ready(reg->link))
		return (-1);
	call = xcalloc(1, sizeof *call);
	call->reg = reg;
	call->script = script;
	call->fn = fn;
	call->arg = arg;
	call->argc = argc;
	for (i = 0; i < argc; i++)
		total += (call->lens[i] = lens[i]);
	call->args = xmalloc(total + 1);
	for (i = 0; i < argc; i++) {
		memcpy(call->args + off, argv[i], lens[i]);
		off += lens[i];
	}
	if (registry_send(call) != 0) {
		free(call->args);
		free(call);
		return (-1);
	}
	return (0);
}
