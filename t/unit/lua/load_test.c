/*
 * Tests for the Lua side (load.c, run.c, state.c, module.c) without a
 * socket: the state setup,
 * the handler chain, suspension, the --script-memory cap and the
 * --script-timeout guard, load errors and reload. Hooks are driven
 * through hooks_run() with publish calls, which need no connection.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/broker.h"
#include "base/config.h"
#include "core/conn.h"
#include "core/hooks.h"
#include "base/log.h"
#include "lua/load.h"
#include "base/stats.h"
#include "../../tap.h"

/* What the last continuation saw. */
struct outcome {
	int	calls;
	int	go;
	char	text[256];
};

static struct event_base	*base;
static struct outcome		 out;
static char			 dir[] = "/tmp/script_test.XXXXXX";
static char			*script_path;

static const char script_main_lua[] =
"local lc = require 'linecast'\n"
"lc.on('publish', function(msg)\n"
"  local t = msg.text\n"
"  if t == 'drop' then return false end\n"
"  if t == 'env' then\n"
"    return table.concat({ tostring(linecast == lc), lc.version,\n"
"      type(string.rep), type(io.open), type(os.time),\n"
"      type(coroutine.wrap), tostring(lc.is_worker),\n"
"      tostring(lc.config.script_memory) }, ' ')\n"
"  end\n"
"  if t == 'who' then\n"
"    return msg.channel .. '/' .. msg.sender\n"
"  end\n"
"  if t == 'hog' then\n"
"    local big = {}\n"
"    for i = 1, 1e9 do big[i] = ('x'):rep(64) .. i end\n"
"  end\n"
"  if t == 'spin' then while true do end end\n"
"  if t == 'sneaky' then\n"
"    while true do pcall(function() while true do end end) end\n"
"  end\n"
"  if t == 'nap' then lc.sleep(0.05) return 'napped' end\n"
"  if t == 'raise' then error('raised on purpose') end\n"
"  return 'seen: ' .. t\n"
"end)\n"
"lc.on('publish', function(msg)\n"
"  return msg.text .. ' (second)'\n"
"end)\n"
"lc.on('shutdown', function() shutdown_ran = true end)\n"
"lc.command('noop', function() end)\n";

/* A hook's continuation: remembers the answer. */
static void
test_cont(struct hooks_call *call)
{
	out.calls++;
	out.go = call->go;
	snprintf(out.text, sizeof out.text, "%.*s", (int)call->text_len,
	    call->text != NULL ? call->text : "");
}

/* Runs the publish hooks on a text. Returns what hooks_run returned. */
static enum hooks_status
test_publish(const char *text)
{
	struct hooks_call	call;

	memset(&out, 0, sizeof out);
	memset(&call, 0, sizeof call);
	call.event = HOOKS_PUBLISH;
	call.channel = "news.today";
	call.channel_len = strlen(call.channel);
	call.sender = "robot";
	call.text = text;
	call.text_len = strlen(text);
	call.cont = test_cont;
	return (hooks_run(&call));
}

/* Returns the first line of a message, for a test's name. */
static const char *
test_first_line(const char *msg)
{
	static char	line[256];

	if (msg == NULL)
		return ("(null)");
	snprintf(line, sizeof line, "%.*s", (int)strcspn(msg, "\n"), msg);
	return (line);
}

/* Writes a script file. */
static void
test_write(const char *path, const char *code)
{
	FILE	*f = fopen(path, "w");

	if (f == NULL || fputs(code, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Loads one script from source. Returns script_start's result. */
static int
test_start(const char *code, char **cause)
{
	test_write(script_path, code);
	*cause = NULL;
	return (load_start(cause));
}

/* Runs the loop until the continuation ran or seconds passed. */
static void
test_loop_until_cont(double seconds)
{
	uint64_t	deadline = conn_now_ms() + (uint64_t)(seconds * 1000);

	while (out.calls == 0 && conn_now_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* Runs the loop for a while. */
static void
test_loop_for(double seconds)
{
	uint64_t	deadline = conn_now_ms() + (uint64_t)(seconds * 1000);

	while (conn_now_ms() < deadline) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* Sets up what the script module needs: settings, loop, broker. */
static void
test_setup(void)
{
	static const struct conn_ops	ops = { .input = NULL };
	static char			*scripts[1];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	if (asprintf(&script_path, "%s/hooks.lua", dir) < 0)
		exit(1);
	config_defaults(&config);
	config.script_memory = 8;
	config.script_timeout = 0.2;
	scripts[0] = script_path;
	config.scripts = scripts;
	config.nscripts = 1;
	log_set_level(LOG_ERROR);
	stats_init();
	base = event_base_new();
	conn_init(base, &ops);
	broker_init();
}

/* No scripts: no state, every hook goes on at once. */
static void
test_no_scripts(void)
{
	char	*cause = NULL;
	int	 i, any = 0;

	config.nscripts = 0;
	ok(load_start(&cause) == 0, "no scripts: script_start succeeds");
	for (i = 0; i < HOOKS_NEVENTS; i++)
		any |= hooks_active[i];
	ok(!any, "no handlers are active");
	is_int(load_memory(), 0, "no Lua memory");
	ok(test_publish("plain") == HOOKS_DONE, "a hook is done at once");
	is_int(out.calls, 1, "its continuation ran");
	ok(out.go, "go on");
	is_str(out.text, "plain", "the text untouched");
	load_free();
	config.nscripts = 1;
}

/* The state: libraries, the module, the handler chain. */
static void
test_state(void)
{
	char	*cause;

	ok(test_start(script_main_lua, &cause) == 0, "a script loads");
	free(cause);
	is_int(hooks_active[HOOKS_PUBLISH], 2, "two publish handlers");
	is_int(hooks_active[HOOKS_SHUTDOWN], 1, "one shutdown handler");
	is_int(hooks_active[HOOKS_LINE], 0, "no line handler");
	ok(load_memory() > 0 && load_memory() < (1 << 20),
	    "the state uses %zu bytes", load_memory());
	ok(test_publish("env") == HOOKS_DONE, "a hook that does not yield");
	is_str(out.text, "true 0.1.0 function function function function "
	    "false 8 (second)", "standard libraries, the module, lc.config");
	test_publish("who");
	is_str(out.text, "news.today/robot (second)", "msg.channel, msg.sender");
	test_publish("hello");
	ok(out.go, "nil: go on");
	is_str(out.text, "seen: hello (second)",
	    "each handler gets the text the previous one returned");
	test_publish("drop");
	is_int(out.calls, 1, "false: the continuation runs");
	ok(!out.go, "told to drop");
}

/* A hook that raises fails alone. */
static void
test_raise(void)
{
	uint64_t	errors = stats.hook_errors;

	test_publish("raise");
	is_int(out.calls, 0, "a raising hook: no continuation");
	is_int(stats.hook_errors, errors + 1, "hook_errors counts it");
	test_publish("after");
	is_str(out.text, "seen: after (second)", "the next hook runs");
}

/* lc.sleep suspends the hook; the loop resumes it. */
static void
test_suspend(void)
{
	ok(test_publish("nap") == HOOKS_SUSPENDED, "lc.sleep suspends");
	is_int(out.calls, 0, "the continuation waits");
	test_loop_until_cont(2);
	is_int(out.calls, 1, "the loop resumes it");
	is_str(out.text, "napped (second)", "with the rest of the chain");
}

/* --script-memory: a hog fails, the state lives on under the cap. */
static void
test_memory(void)
{
	uint64_t	errors = stats.hook_errors;

	test_publish("hog");
	is_int(out.calls, 0, "a hook over the memory cap fails");
	is_int(stats.hook_errors, errors + 1, "counted");
	ok(load_memory() <= ((size_t)8 << 20),
	    "the state stayed under 8 MiB (%zu bytes)", load_memory());
	test_publish("fine");
	is_str(out.text, "seen: fine (second)", "the state still works");
}

/* --script-timeout: a loop is aborted, even one inside pcall. */
static void
test_timeout(void)
{
	uint64_t	errors = stats.hook_errors, t0;

	t0 = conn_now_ms();
	test_publish("spin");
	is_int(out.calls, 0, "while true do end: aborted");
	ok(conn_now_ms() - t0 >= 150 && conn_now_ms() - t0 < 2000,
	    "after about 0.2 s (%llu ms)",
	    (unsigned long long)(conn_now_ms() - t0));
	t0 = conn_now_ms();
	test_publish("sneaky");
	is_int(out.calls, 0, "a loop of pcall(loop): aborted");
	ok(conn_now_ms() - t0 < 2000, "in bounded time (%llu ms)",
	    (unsigned long long)(conn_now_ms() - t0));
	is_int(stats.hook_errors, errors + 2, "both counted");
	test_publish("fine");
	is_str(out.text, "seen: fine (second)", "the state still works");
}

/* Timers at load time run from the loop; a failing one is counted. */
static void
test_timers(void)
{
	uint64_t	 errors;
	char		*cause;

	load_free();
	ok(test_start("local lc = require 'linecast'\n"
	    "local n = 0\n"
	    "lc.every(0.01, function() n = n + 1 end)\n"
	    "lc.after(0.02, function() error('late') end)\n"
	    "lc.on('publish', function() return 'ticks ' .. n end)\n",
	    &cause) == 0, "a script with timers loads");
	free(cause);
	errors = stats.hook_errors;
	test_loop_for(0.1);
	test_publish("x");
	ok(strncmp(out.text, "ticks ", 6) == 0 && atoi(out.text + 6) >= 3,
	    "lc.every ran (%s)", out.text);
	is_int(stats.hook_errors, errors + 1, "the failing lc.after counted");
}

/* Load errors: the cause names the file and line. */
static void
test_load_errors(void)
{
	char	*cause;
	char	 want[PATH_MAX + 8];

	load_free();
	ok(test_start("local x = 1\nlocal y = (\n", &cause) == -1,
	    "a syntax error fails to load");
	snprintf(want, sizeof want, "%s:3:", script_path);
	ok(cause != NULL && strstr(cause, want) != NULL,
	    "the cause names the file and line: %s", test_first_line(cause));
	free(cause);
	ok(test_start("error('at load')\n", &cause) == -1,
	    "an error at load time fails");
	ok(cause != NULL && strstr(cause, "at load") != NULL, "%s",
	    test_first_line(cause));
	free(cause);
	ok(test_start("while true do end\n", &cause) == -1,
	    "a script that loops at load time fails");
	ok(cause != NULL && strstr(cause, "script timeout") != NULL, "%s",
	    test_first_line(cause));
	free(cause);
	ok(test_start("local t = {} for i = 1, 1e9 do t[i] = i .. 'x' end\n",
	    &cause) == -1, "a script that eats memory at load time fails");
	ok(cause != NULL && strstr(cause, "not enough memory") != NULL, "%s",
	    test_first_line(cause));
	free(cause);
	is_int(load_memory(), 0, "no state is left");
}

/* Reload: a good script replaces the state, a broken one does not. */
static void
test_reload(void)
{
	char	*cause;

	ok(test_start("require('linecast').on('publish', function(m) "
	    "return 'one' end)\n", &cause) == 0, "version one loads");
	free(cause);
	test_publish("x");
	is_str(out.text, "one", "version one runs");
	test_write(script_path, "require('linecast').on('publish', "
	    "function(m) return 'two' end)\n");
	load_reload();
	test_publish("x");
	is_str(out.text, "two", "a reload runs the new script");
	test_write(script_path, "this is not lua\n");
	load_reload();
	test_publish("x");
	is_str(out.text, "two", "a broken one leaves the old running");
	test_write(script_path, "-- no hooks\n");
	load_reload();
	is_int(hooks_active[HOOKS_PUBLISH], 0, "a reload counts handlers anew");
	test_publish("x");
	is_str(out.text, "x", "the old handlers are gone");
	load_free();
	is_int(load_memory(), 0, "script_free closes the state");
}

int
main(void)
{
	test_setup();
	test_no_scripts();
	test_state();
	test_raise();
	test_suspend();
	test_memory();
	test_timeout();
	test_timers();
	test_load_errors();
	test_reload();
	unlink(script_path);
	rmdir(dir);
	broker_free();
	conn_shutdown();
	event_base_free(base);
	return (done_testing());
}
